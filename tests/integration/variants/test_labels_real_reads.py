"""Haplotype-aware labels on real reads: a second NA12878 run (2x151, other lab, ../shared/data/genomics/dev)
whose reads write two complex truth loci as combined events (a 2 bp and a 12 bp deletion plus SNPs for 1 bp,
1 bp / 11 bp truth deletions in a CA repeat)."""

import numpy as np

from genoscreen.variants.examples import read_examples
from genoscreen.variants.make_examples import make_examples
from genoscreen.variants.pileup_config import PRESETS

DEV = ("genomics", "dev")
BAM = "HG001.chr20.10_10p1mb_sorted.bam"  # contig "20"
REF = "ucsc.hg19.chr20.unittest.fasta.gz"  # contig "chr20"
TRUTH = "HG001_GIAB_v3.3.2.chr20_9995000_10045000.vcf.gz"
CONF = "HG001_confident_subset.chr20_10000846_10010531.bed"
REGION = "chr20:10000001-10010000"


def _recall(summary, kind):
    n = summary["truth"][kind]
    return (n - summary["truth_without_candidate"][kind]) / n


def test_2x151_candidate_recall_counts_combined_events(shared, tmp_path):
    """Over the whole 10 kb (no confident BED): 12 truth indels, of which 3 are reproduced only by candidate
    combinations (7/12 with one-candidate-at-a-time labels, 10/12 now); the 2 left are an STR locus where no
    candidate combination gives the truth haplotypes. Every SNP stays found."""
    d = shared(*DEV)
    s = make_examples(d / BAM, d / REF, tmp_path / "ex", regions=REGION, truth=d / TRUTH, contig_map="20=chr20",
                      config=PRESETS["test"])
    assert s["truth"]["INDEL"] >= 10 and s["truth"]["SNP"] >= 50
    assert _recall(s, "SNP") == 1.0
    assert _recall(s, "INDEL") >= 0.8
    ex = read_examples(tmp_path / "ex")
    # the multi-allelic combined-deletion candidate: one copy of each alt, two of the pair
    pairs = [i for i, a in enumerate(ex["alt_indices"]) if a == "1,2" and ex["label"][i] == 2]
    assert any(len(ex["ref"][i]) > 10 for i in pairs)
    assert set(np.unique(ex["label"])) <= {0, 1, 2}


def test_2x151_inside_confident_bed(shared, tmp_path):
    d = shared(*DEV)
    s = make_examples(d / BAM, d / REF, tmp_path / "ex", regions=REGION, truth=d / TRUTH, confident_bed=d / CONF,
                      contig_map="20=chr20", config=PRESETS["test"])
    assert s["truth"]["INDEL"] >= 4 and s["truth"]["SNP"] >= 40
    assert s["truth_without_candidate"] == {"SNP": 0, "INDEL": 0}
