"""Training: the minibatch loop that knows no model (loop), and the recipes built on it: greedy layer-wise
pretraining and fine-tuning, the VAE's latent sweep, full-batch L-BFGS of the sparse autoencoder, the
rank-ordered author's rule, and calls side by side in processes. Imports data, models and penalties."""
