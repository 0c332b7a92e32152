"""Shared names of the dev data files in ../shared/data/genomics/dev and the candidate-recall helper."""

DEV = ("genomics", "dev")
REF = "ucsc.hg19.chr20.unittest.fasta.gz"  # contig "chr20"
TRUTH = "HG001_GIAB_v3.3.2.chr20_9995000_10045000.vcf.gz"
CONF = "HG001_confident_subset.chr20_10000846_10010531.bed"


def recall(summary, kind):
    """Fraction of truth variants of `kind` ("SNP"/"INDEL") that some candidate reproduces."""
    n = summary["truth"][kind]
    return (n - summary["truth_without_candidate"][kind]) / n
