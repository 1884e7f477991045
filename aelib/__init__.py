"""aelib: the shared pieces of the autoencoder replications.

Two layers. The machine-learning modules, flat in this package, carry the mathematics:
data (official files, checksums, splits), corruption, activations, models (every
autoencoder's interface: pre_activation, encode, decode, filters), losses, regularizers
(one named entry per method, the training loss it builds), training (a loop that knows
no model), and one module per paper's idea (sparsity, saturation, contractive,
rank_order, vae, pretraining, ...) with the measures (metrics, perturbation, comparison).
aelib.pipeline runs the studies and keeps their record: command line, study start,
parameters, results, provenance, report. The pipeline imports the mathematics, never
the reverse (tests/test_layers.py checks the import rules).
"""

__version__ = "0.1.0"
