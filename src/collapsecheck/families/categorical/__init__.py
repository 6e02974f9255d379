"""The categorical (token) chain: refit K category probabilities to n draws of the last fit."""
