"""Models: activations, autoencoders (one interface: pre_activation, encode, decode, filters), the VAE,
the rank-ordered autoencoder, K models trained as one (batched), and the reconstruction losses of their
decoders. Imports no other part."""
