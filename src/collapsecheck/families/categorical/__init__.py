"""The categorical (token) chain: K categories refitted by their empirical frequencies."""
