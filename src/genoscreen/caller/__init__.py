"""Variant calling, stages 2-3: the genotype CNN over pileup tensors and what runs it.

configs (presets) -> model (CallerCNN, save/load, export) -> train (train-caller) -> calibrate (calibrate-caller)
-> call_variants (PROBS) -> postprocess (VCF/gVCF); pipeline runs make-examples, inference and postprocess in one
process (`call`). model_dir owns the model directory's files; predictor runs the exported forward pass without
Flax; calibration is the GQ/QUAL transform and its measurement; data reads examples folders and PROBS files.
"""
