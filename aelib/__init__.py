"""aelib: the shared pieces of the autoencoder replications.

The library in its parts, each a folder: data (official files, checksums, splits, the authors'
references), models (every autoencoder's interface: pre_activation, encode, decode, filters),
penalties (one named entry per regularizer, the training loss it builds, and each penalty's
mathematics), training (a loop that knows no model, and the recipes on it), measures (what a
trained model is judged on, matched-error comparison, validation choice, seed summaries), plotting,
and pipeline (command line, studies, workflow, results, provenance, report, paper). The pipeline
imports the others, never the reverse (tests/test_layers.py checks the import rules).
"""

__version__ = "0.1.0"
