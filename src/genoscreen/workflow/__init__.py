"""Library behind the Snakemake workflow: config and sample-sheet validation, shards, VCF gather, compound chunks."""
