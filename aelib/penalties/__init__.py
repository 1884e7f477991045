"""Penalties: every way of regularizing an autoencoder, one named entry each in the registry
(regularizers.regularizer, regularizers.training_loss), with the mathematics of each in its own module
(corruption for denoising, contractive, saturation, sparsity). Imports the models only."""
