"""The pipeline layer: what runs a study and keeps its record, apart from the mathematics.

cli (python -m aelib), study (the start of every notebook), parameters (checks of a
notebook's parameters), results (where a run writes, metrics.json), reproducibility
(seeding, device, provenance) and report (built from results/ alone).
"""
