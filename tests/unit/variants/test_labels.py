import numpy as np
import pysam

from genoscreen.variants.candidates import Candidate
from genoscreen.variants.labels import Truth, apply_alleles
from genoscreen.variants.normalize import Allele, RefSeq, TruthRecord
from tests.unit.variants.synth import write_reference

#      0123456789012345678901234
SEQ = "GATTACAGGCTTACCGATGCAGTCA" * 4


def _cand(pos, ref, alt):
    return Candidate("c", pos, ref, [alt], [(pos, ref, alt)], [10, 10], 20, [np.zeros(0, np.int64)])


def test_apply_alleles():
    assert apply_alleles("ACGTACGT", 10, [(11, "C", "T"), (13, "TA", "T")]) == "ATGTCGT"
    assert apply_alleles("ACGT", 10, [(11, "CG", "C"), (12, "G", "A")]) is None  # overlapping
    assert apply_alleles("ACGT", 10, [(13, "TA", "T")]) is None  # leaves the window


def test_candidate_equal_to_a_truth_haplotype_written_differently(tmp_path):
    refseq = RefSeq(pysam.FastaFile(str(write_reference(tmp_path / "r.fa", SEQ, "c"))))
    # truth: deletions of T@2 and A@4 on haplotype 2 (phased); reads show them as one 2 bp deletion of TA@3-4
    recs = [TruthRecord("c", 1, "AT", ("AT", "A"), (0, 1), True), TruthRecord("c", 3, "TA", ("TA", "T"), (0, 1), True)]
    alleles = {("c", 1, "AT", "A"): Allele("c", 1, "AT", "A", 1), ("c", 3, "TA", "T"): Allele("c", 3, "TA", "T", 1)}
    truth = Truth(alleles, None, {"c": recs})
    cand = _cand(2, "TTA", "T")
    matched = set()
    assert truth.label(cand, (1,)) == 0  # no key match
    assert truth.label(cand, (1,), refseq, matched) == 1  # same haplotype: one copy
    assert matched == set(alleles)
    assert truth.without_candidate(matched) == {"SNP": 0, "INDEL": 0}
    # on different haplotypes (phased apart) the 2 bp deletion is no truth haplotype
    apart = Truth(alleles, None, {"c": [recs[0], TruthRecord("c", 3, "TA", ("TA", "T"), (1, 0), True)]})
    assert apart.label(cand, (1,), refseq) == 0
    # unphased hets: some phasing puts them together
    unphased = Truth(alleles, None, {"c": [TruthRecord("c", 1, "AT", ("AT", "A"), (0, 1), False),
                                          TruthRecord("c", 3, "TA", ("TA", "T"), (1, 0), False)]})
    assert unphased.label(cand, (1,), refseq) == 1


def test_key_match_wins_and_pairs_sum(tmp_path):
    refseq = RefSeq(pysam.FastaFile(str(write_reference(tmp_path / "r.fa", SEQ, "c"))))
    alleles = {("c", 8, "G", "A"): Allele("c", 8, "G", "A", 1), ("c", 8, "G", "T"): Allele("c", 8, "G", "T", 1)}
    truth = Truth(alleles, None, {"c": [TruthRecord("c", 8, "G", ("G", "A", "T"), (1, 2), True)]})
    cand = Candidate("c", 8, "G", ["A", "T"], [(8, "G", "A"), (8, "G", "T")], [0, 5, 5], 10, [np.zeros(0, np.int64)] * 2)
    assert truth.label(cand, (1,), refseq) == 1 and truth.label(cand, (2,), refseq) == 1
    assert truth.label(cand, (1, 2), refseq) == 2
    assert truth.label(_cand(8, "G", "C"), (1,), refseq) == 0
