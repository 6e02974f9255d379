"""The multivariate Gaussian refit chain: N_D(mu, Sigma) refitted to n draws of the last fit."""
