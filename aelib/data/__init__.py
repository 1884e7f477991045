"""Data: the official benchmark files found or fetched and verified (datasets), the MNIST-basic split,
natural-image patches, and the authors' own results used as yardsticks (references). Imports no other part."""
