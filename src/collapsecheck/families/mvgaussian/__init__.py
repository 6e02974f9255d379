"""The multivariate Gaussian refit chain: fit N(mu, Sigma) in dimension D to n draws of the previous fit."""
