"""aelib: the shared pieces of the autoencoder replications (data, models, training, results)."""

__version__ = "0.1.0"
