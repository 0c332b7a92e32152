"""Haplotype-aware labels and realignment on real reads: a second NA12878 run (2x151, other lab,
../shared/data/genomics/dev) whose reads write complex truth loci in repeats differently from the truth."""

import numpy as np

from genoscreen.variants.examples import read_examples
from genoscreen.variants.make_examples import make_examples
from genoscreen.variants.pileup_config import PRESETS
from tests.integration.variants.dev_data import CONF, DEV, REF, TRUTH, recall

BAM = "HG001.chr20.10_10p1mb_sorted.bam"  # contig "20"
REGION = "chr20:10000001-10010000"


def test_2x151_candidate_recall_counts_combined_events(shared, tmp_path):
    """Over the whole 10 kb (no confident BED): 12 truth indels, of which some are reproduced only by candidate
    combinations (7/12 with one-candidate-at-a-time labels). The last 2 sit in a ~60 bp (AG)n/(GGGA)n repeat where
    a minority haplotype carries both (an insertion near each end of the repeat, a near-homozygous SNP 2 bp
    from the first): they need realignment windows with flanks clear of read variation, haplotypes joined from reads
    that each reach one flank, and haplotype-to-reference alignments that write two indels rather than one indel and
    a substitution. Every SNP stays found."""
    d = shared(*DEV)
    s = make_examples(d / BAM, d / REF, tmp_path / "ex", regions=REGION, truth=d / TRUTH, contig_map="20=chr20",
                      config=PRESETS["test"])
    assert s["truth"]["INDEL"] >= 10 and s["truth"]["SNP"] >= 50
    assert recall(s, "SNP") == 1.0
    assert recall(s, "INDEL") == 1.0
    ex = read_examples(tmp_path / "ex")
    # the het-alt locus in the repeat (an insertion on one haplotype, a SNP on the other): one copy of each alt,
    # two of the pair
    pairs = [i for i, a in enumerate(ex["alt_indices"]) if a == "1,2" and ex["label"][i] == 2]
    assert pairs
    for i in pairs:
        same = [j for j in range(len(ex["pos"])) if ex["pos"][j] == ex["pos"][i] and ex["alt_indices"][j] in ("1", "2")]
        assert [int(ex["label"][j]) for j in same] == [1, 1]
    assert any(len(a) > len(ex["ref"][i]) for i in pairs for a in ex["alts"][i].split(","))
    assert set(np.unique(ex["label"])) <= {0, 1, 2}


def test_2x151_inside_confident_bed(shared, tmp_path):
    d = shared(*DEV)
    s = make_examples(d / BAM, d / REF, tmp_path / "ex", regions=REGION, truth=d / TRUTH, confident_bed=d / CONF,
                      contig_map="20=chr20", config=PRESETS["test"])
    assert s["truth"]["INDEL"] >= 4 and s["truth"]["SNP"] >= 40
    assert s["truth_without_candidate"] == {"SNP": 0, "INDEL": 0}
