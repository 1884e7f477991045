"""Measures: what a trained model is judged on (filter locality, Gabor fits, sensitivity to perturbations,
Jacobian spectra, saturation, linear probes), comparisons at matched reconstruction error, the choice of a
setting on validation data, and summaries over seeds. Imports models and penalties only."""
