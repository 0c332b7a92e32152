import shutil

import numpy as np
import pysam
import pytest

from genoscreen.variants.regions import Region
from genoscreen.variants.simulate import build_haplotypes
from genoscreen.variants.tools import ToolError, require


def test_haplotypes_carry_the_truth(dataset):
    fasta = pysam.FastaFile(str(dataset.ref))
    h1, h2, stats = build_haplotypes(fasta, dataset.truth, Region("chrS", 0, 6000), np.random.default_rng(0))
    v = dataset.variants
    assert stats.records == 5 and stats.skipped_overlap == 0
    assert stats.applied == 7  # 3 hets + hom (2) + 1/2 (2)
    assert len(h1) + len(h2) == 2 * 6000 - 3 + 2  # one 3 bp deletion, one 2 bp insertion
    # the hom SNV is on both haplotypes, before any length change
    assert h1[v[1].pos] == h2[v[1].pos] == v[1].alts[0]
    # the het SNV is on exactly one
    assert sorted([h1[v[0].pos], h2[v[0].pos]]) == sorted([v[0].ref, v[0].alts[0]])


def test_unphased_het_placement_depends_on_seed(dataset):
    fasta = pysam.FastaFile(str(dataset.ref))
    placements = set()
    for seed in range(8):
        h1, _, _ = build_haplotypes(fasta, dataset.truth, Region("chrS", 0, 1500), np.random.default_rng(seed))
        placements.add(h1[dataset.variants[0].pos])
    assert len(placements) == 2
    a = build_haplotypes(fasta, dataset.truth, Region("chrS", 0, 6000), np.random.default_rng(3))
    b = build_haplotypes(fasta, dataset.truth, Region("chrS", 0, 6000), np.random.default_rng(3))
    assert a[:2] == b[:2]


def test_missing_binary_says_how_to_install(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ToolError, match="apt-get install art-nextgen-simulation-tools"):
        require("art_illumina", "art-nextgen-simulation-tools")
    from genoscreen.variants.tools import bwa, samtools

    with pytest.raises(ToolError, match="apt-get install bwa"):
        bwa.binary()
    with pytest.raises(ToolError, match="apt-get install samtools"):
        samtools.binary()


def test_artifact_haplotype_adds_non_truth_sites():
    from genoscreen.variants.simulate import artifact_haplotype

    ref = "ACGT" * 2000
    seq, n = artifact_haplotype(ref, np.random.default_rng(0))
    assert n == 8000 // 400 + 8000 // 4000
    assert seq != ref and abs(len(seq) - len(ref)) <= 6
    assert artifact_haplotype(ref, np.random.default_rng(0)) == (seq, n)
