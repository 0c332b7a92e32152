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


def _fastq_pair(tmp_path, n=200):
    rng = np.random.default_rng(1)
    quals = "".join(chr(33 + q) for q in range(0, 42))
    for mate in (1, 2):
        with open(tmp_path / f"r{mate}.fq", "w") as handle:
            for i in range(n):
                seq = "".join(rng.choice(list("ACGT"), size=42))
                handle.write(f"@read{i}/{mate}\n{seq}\n+\n{quals}\n")
    return tmp_path / "r1.fq", tmp_path / "r2.fq"


def test_novaseq_binning_and_duplicates_rewrite_both_mates(tmp_path):
    from genoscreen.variants.simulate import _rewrite_pairs

    fq1, fq2 = _fastq_pair(tmp_path)
    stats = _rewrite_pairs(fq1, fq2, np.random.default_rng(0), "novaseq", 0.25)
    assert stats["pairs"] == 200 and 30 < stats["duplicate_pairs"] < 70
    r1, r2 = fq1.read_text().splitlines(), fq2.read_text().splitlines()
    assert len(r1) == len(r2) == 4 * (200 + stats["duplicate_pairs"])
    levels = {ord(c) - 33 for q in r1[3::4] + r2[3::4] for c in q}
    assert levels == {2, 12, 23, 37}
    assert r1[3][:3] == chr(35) * 3 and r1[3][3] == chr(33 + 12) and r1[3][-1] == chr(33 + 37)
    dups1 = [i for i, name in enumerate(r1[0::4]) if "_dup" in name]
    dups2 = [i for i, name in enumerate(r2[0::4]) if "_dup" in name]
    assert dups1 == dups2 and len(dups1) == stats["duplicate_pairs"]
    i = dups1[0]
    assert r1[4 * i] == r1[4 * (i - 1)].replace("/1", "_dup/1") and r1[4 * i + 1] == r1[4 * (i - 1) + 1]


def test_rewrite_without_binning_keeps_qualities(tmp_path):
    from genoscreen.variants.simulate import _rewrite_pairs

    fq1, fq2 = _fastq_pair(tmp_path, n=20)
    before = fq1.read_text()
    stats = _rewrite_pairs(fq1, fq2, np.random.default_rng(0), "none", 0.0)
    assert stats == {"pairs": 20, "duplicate_pairs": 0} and fq1.read_text() == before


@pytest.mark.parametrize("kwargs, message", [
    ({"art_system": "XX99"}, "unknown; choose one of"),
    ({"art_system": "NS50", "read_length": 150}, "longer than ART's NS50"),
    ({"art_system": "HS25", "profile_bam": "x.bam"}, "not both"),
    ({"quality_binning": "hiseq"}, "quality binning"),
    ({"duplicate_fraction": 1.5}, "duplicate fraction"),
])
def test_simulation_options_are_checked_first(dataset, tmp_path, monkeypatch, kwargs, message):
    from genoscreen.common.errors import InputError
    from genoscreen.variants import simulate

    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    with pytest.raises(InputError, match=message):
        simulate.simulate_reads(dataset.ref, dataset.truth, "chrS:1-2000", tmp_path / "x.bam", **kwargs)
    assert not (tmp_path / "x.bam").exists()
