"""Variant calling, stage 1: aligned reads -> candidate sites -> pileup tensors (labelled when truth is given).

- regions.py: --regions / --bed parsing, shards, contig-name checks and --contig-map
- reads.py: opening BAM/CRAM safely (empty, truncated, unsorted, unindexed)
- candidates.py: per-read dense rows and vectorised allele counting -> candidate sites
- pileup_config.py / pileup.py: the tensor's shape and channels, and building it
- normalize.py / labels.py: truth normalisation and matching -> labels 0/1/2
- examples.py / make_examples.py: examples folders (npz shards) and the driver
- evaluate.py: hap.py-style SNP/INDEL precision, recall, F1
- simulate.py + tools/: training reads from a real genome's variants (ART, bwa, samtools)
"""
