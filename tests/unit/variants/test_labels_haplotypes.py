"""Haplotype-aware labelling of candidate clusters (labels.Truth.label_candidates) on a synthetic reference.

Each case writes the same haplotype two ways, once in the truth and once as the candidates reads would give, and
checks the labels (copies per alt) and which truth alleles count as having a candidate.
"""

import dataclasses
import random

import numpy as np
import pysam
import pytest

from genoscreen.variants import labels
from genoscreen.variants.candidates import Candidate
from genoscreen.variants.labels import Truth, genotype_label, trim_change
from genoscreen.variants.normalize import Allele, RefSeq, TruthRecord, normalize_allele
from tests.unit.variants.synth import write_reference

_rng = random.Random(3)
LEFT = "".join(_rng.choice("ACGT") for _ in range(40))
MID = "".join(_rng.choice("ACGT") for _ in range(40))
RIGHT = "".join(_rng.choice("ACGT") for _ in range(60))
# motifs where reads and truth write indels differently: a short run then a CA repeat at M, "GATTACAG" at Q
M = len(LEFT)
SEQ = LEFT + "TTAAA" + "CA" * 7 + "GG" + MID + "GATTACAG" + RIGHT
Q = SEQ.index("GATTACAG", M)


@pytest.fixture(scope="module")
def refseq(tmp_path_factory):
    return RefSeq(pysam.FastaFile(str(write_reference(tmp_path_factory.mktemp("ref") / "r.fa", SEQ, "c"))))


def rec(pos, ref, alts, gt, phased=True):
    return TruthRecord("c", pos, ref, (ref, *alts), gt, phased)


def truth_of(refseq, recs):
    """A Truth over `recs` (all confident), alleles normalised as `read_alleles` does."""
    alleles = {}
    for r in recs:
        for g in sorted(set(r.gt) - {0}):
            for p, a, b in normalize_allele(refseq, "c", r.pos, r.ref, r.alleles[g]):
                n = sum(1 for x in r.gt if x == g)
                old = alleles.get(("c", p, a, b))
                alleles[("c", p, a, b)] = Allele("c", p, a, b, min(2, n + (old.copies if old else 0)))
    return Truth(alleles, None, {"c": sorted(recs, key=lambda r: r.pos)})


def cand(refseq, pos, ref, alts):
    keys = [normalize_allele(refseq, "c", pos, ref, a)[0] for a in alts]
    return Candidate("c", pos, ref, list(alts), keys, [5] * (len(alts) + 1), 20,
                     [np.zeros(0, np.int64)] * len(alts))


def run(truth, cands, refseq):
    matched = set()
    copies = truth.label_candidates(cands, refseq, matched)
    return copies, truth.without_candidate(matched)


def test_trim_change_and_genotype_label():
    assert trim_change(5, "TTA", "T") == (6, "TA", "")
    assert trim_change(5, "A", "ATT") == (6, "", "TT")
    assert trim_change(5, "CACA", "CCA") == (6, "A", "")
    assert genotype_label((1, 1), (1,)) == 1 and genotype_label((1, 1), (1, 2)) == 2
    assert genotype_label((2, 0), (1, 2)) == 2


@pytest.mark.parametrize("gt, copies", [((0, 1), 1), ((1, 1), 2)])
def test_one_combined_deletion_for_two_truth_deletions(refseq, gt, copies):
    # truth: T@Q+2 and A@Q+4 deleted on one haplotype; reads: one 2 bp deletion of TA@Q+3..Q+4
    truth = truth_of(refseq, [rec(Q + 1, "AT", ("A",), gt), rec(Q + 3, "TA", ("T",), gt)])
    c = cand(refseq, Q + 2, "TTA", ["T"])
    assert c.alt_keys[0] not in {k[1:] for k in truth.alleles}  # no key match
    got, missing = run(truth, [c], refseq)
    assert got == [(copies,)] and missing == {"SNP": 0, "INDEL": 0}


def test_two_candidate_deletions_for_one_truth_deletion(refseq):
    # truth: one 2 bp deletion of TA@Q+3..Q+4; reads: T@Q+2 and A@Q+4 deleted as two 1 bp events
    truth = truth_of(refseq, [rec(Q + 2, "TTA", ("T",), (1, 0))])
    cands = [cand(refseq, Q + 1, "AT", ["A"]), cand(refseq, Q + 3, "TA", ["T"])]
    got, missing = run(truth, cands, refseq)
    assert got == [(1,), (1,)] and missing == {"SNP": 0, "INDEL": 0}


def test_insertion_plus_snp_as_one_complex_truth_record(refseq):
    # truth writes an insertion of TT and the SNP after it as one complex record; reads give an insertion and a
    # SNP (and a noise SNP nearby that is no truth)
    p = M + 10
    ref2 = SEQ[p:p + 2]
    alt = ref2[0] + "TT" + ("G" if ref2[1] != "G" else "T")
    truth = truth_of(refseq, [rec(p, ref2, (alt,), (0, 1))])
    cands = [cand(refseq, p, ref2[0], [ref2[0] + "TT"]), cand(refseq, p + 1, ref2[1], [alt[-1]]),
             cand(refseq, p + 4, SEQ[p + 4], ["T" if SEQ[p + 4] != "T" else "G"])]
    got, missing = run(truth, cands, refseq)
    assert got == [(1,), (1,), (0,)] and missing == {"SNP": 0, "INDEL": 0}


def test_complex_candidate_for_truth_insertion_plus_snp(refseq):
    p = M + 10
    ref2 = SEQ[p:p + 2]
    snp = "G" if ref2[1] != "G" else "T"
    truth = truth_of(refseq, [rec(p, ref2[0], (ref2[0] + "TT",), (1, 1)), rec(p + 1, ref2[1], (snp,), (1, 1))])
    c = cand(refseq, p, ref2, [ref2[0] + "TT" + snp])
    got, missing = run(truth, [c], refseq)
    assert got == [(2,)] and missing == {"SNP": 0, "INDEL": 0}


def test_multiallelic_locus_written_as_combined_deletions_and_snps(refseq):
    """A hom 1 bp deletion next to a 1 bp / 11 bp deletion (1|2) in a CA repeat; reads write 2 bp and 12 bp
    deletions plus a SNP on each haplotype, and one noise SNP inside the 12 bp deletion."""
    truth = truth_of(refseq, [rec(M + 1, "TA", ("T",), (1, 1)),
                              rec(M + 5, SEQ[M + 5:M + 17], (SEQ[M + 5] + SEQ[M + 7:M + 17], SEQ[M + 5]), (2, 1))])
    assert truth.counts() == {"SNP": 0, "INDEL": 3}
    multi = cand(refseq, M + 3, SEQ[M + 3:M + 16], [SEQ[M + 3] + SEQ[M + 6:M + 16], SEQ[M + 3]])
    cands = [multi, cand(refseq, M + 4, "A", ["C"]), cand(refseq, M + 6, "A", ["C"]), cand(refseq, M + 16, "A", ["C"])]
    got, missing = run(truth, cands, refseq)
    assert got == [(1, 1), (0,), (1,), (1,)] and missing == {"SNP": 0, "INDEL": 0}
    assert [genotype_label(got[0], s) for s in [(1,), (2,), (1, 2)]] == [1, 1, 2]


def test_no_assignment_reproduces_the_truth(refseq):
    truth = truth_of(refseq, [rec(M + 1, "TA", ("T",), (0, 1))])
    c = cand(refseq, M + 5, "CAC", ["C"])  # another deletion in the repeat: no haplotype equals the truth's
    got, missing = run(truth, [c], refseq)
    assert got == [(0,)] and missing == {"SNP": 0, "INDEL": 1}


def test_partial_cluster_keeps_what_candidates_reproduce(refseq):
    # truth hap 2: two deletions (reads: one combined) and a SNP with no candidate
    p = Q + 12
    snp = "A" if SEQ[p] != "A" else "C"
    truth = truth_of(refseq, [rec(Q + 1, "AT", ("A",), (0, 1)), rec(Q + 3, "TA", ("T",), (0, 1)),
                              rec(p, SEQ[p], (snp,), (0, 1))])
    got, missing = run(truth, [cand(refseq, Q + 2, "TTA", ["T"])], refseq)
    assert got == [(1,)] and missing == {"SNP": 1, "INDEL": 0}


def test_unphased_hets_are_phased_together_against_a_phased_het(refseq):
    # the two unphased deletions can only be reproduced together (on hap 2 or hap 1), next to a phased SNP
    p = Q + 12
    snp = "A" if SEQ[p] != "A" else "C"
    recs = [rec(Q + 1, "AT", ("A",), (0, 1), phased=False), rec(Q + 3, "TA", ("T",), (1, 0), phased=False),
            rec(p, SEQ[p], (snp,), (1, 0))]
    cands = [cand(refseq, Q + 2, "TTA", ["T"]), cand(refseq, p, SEQ[p], [snp])]
    got, missing = run(truth_of(refseq, recs), cands, refseq)
    assert got == [(1,), (1,)] and missing == {"SNP": 0, "INDEL": 0}
    phased = truth_of(refseq, [dataclasses.replace(r, phased=True) for r in recs])
    got, missing = run(phased, cands, refseq)
    assert got == [(0,), (1,)] and missing == {"SNP": 0, "INDEL": 2}  # phased apart: no combined deletion


def test_key_matches_label_directly_and_far_candidates_stay_apart(refseq):
    snp = "A" if SEQ[M - 20] != "A" else "C"
    far = "A" if SEQ[Q + 40] != "A" else "C"
    truth = truth_of(refseq, [rec(M - 20, SEQ[M - 20], (snp,), (1, 1)), rec(M + 1, "TA", ("T",), (0, 1))])
    cands = [cand(refseq, M - 20, SEQ[M - 20], [snp]), cand(refseq, M + 1, "TA", ["T"]),
             cand(refseq, Q + 40, SEQ[Q + 40], [far])]
    got, missing = run(truth, cands, refseq)
    assert got == [(2,), (1,), (0,)] and missing == {"SNP": 0, "INDEL": 0}


def test_too_many_candidates_fall_back_to_each_alone(refseq, monkeypatch):
    truth = truth_of(refseq, [rec(Q + 1, "AT", ("A",), (0, 1)), rec(Q + 3, "TA", ("T",), (0, 1))])
    noise = [cand(refseq, Q + i, SEQ[Q + i], ["G" if SEQ[Q + i] != "G" else "T"]) for i in range(6, 16)]
    cands = [cand(refseq, Q + 2, "TTA", ["T"])] + noise
    calls = []
    real = labels._best_assignment
    monkeypatch.setattr(labels, "_best_assignment", lambda c, cs, *a: calls.append(len(cs)) or real(c, cs, *a))
    got, missing = run(truth, cands, refseq)
    assert len(cands) > labels.MAX_CANDIDATES and max(calls) == 1  # enumerated one candidate at a time
    assert got == [(1,)] + [(0,)] * len(noise) and missing == {"SNP": 0, "INDEL": 0}


def test_unphased_het_is_tried_on_either_side_of_a_phased_het(refseq):
    # one complex candidate (deletion of A@Q+4 and a SNP at Q+6) needs the unphased deletion on the phased SNP's
    # haplotype, which the VCF writes the other way round
    assert SEQ[Q + 3:Q + 7] == "TACA"
    recs = [rec(Q + 3, "TA", ("T",), (0, 1), phased=False), rec(Q + 6, "A", ("C",), (1, 0))]
    c = cand(refseq, Q + 3, "TACA", ["TCC"])
    got, missing = run(truth_of(refseq, recs), [c], refseq)
    assert got == [(1,)] and missing == {"SNP": 0, "INDEL": 0}
    both_phased = truth_of(refseq, [dataclasses.replace(r, phased=True) for r in recs])
    assert run(both_phased, [c], refseq) == ([(0,)], {"SNP": 1, "INDEL": 1})


def test_too_many_truth_records_fall_back_to_each_candidate_alone(refseq):
    snps = [rec(Q + i, SEQ[Q + i], ("A" if SEQ[Q + i] != "A" else "C",), (1, 1)) for i in (8, 14, 20, 26, 32)]
    truth = truth_of(refseq, [rec(Q + 1, "AT", ("A",), (0, 1)), rec(Q + 3, "TA", ("T",), (0, 1))] + snps)
    noise = cand(refseq, Q + 38, SEQ[Q + 38], ["A" if SEQ[Q + 38] != "A" else "C"])
    got, missing = run(truth, [cand(refseq, Q + 2, "TTA", ["T"]), noise], refseq)  # one cluster of 7 records
    assert len(truth.records["c"]) > labels.MAX_RECORDS
    assert got == [(1,), (0,)] and missing == {"SNP": 5, "INDEL": 0}
