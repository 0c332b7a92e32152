"""Variant calling, stages 2-3: the genotype CNN over pileup tensors and what runs it.

configs (presets) -> model (CallerCNN, model directory) -> train (train-caller) -> call_variants (PROBS) ->
postprocess (VCF/gVCF); pipeline runs make-examples, inference and postprocess in one process (`call`);
inference loads the exported forward pass without Flax; data reads examples folders and PROBS files.
"""
