"""Each bad input named in issue 4 item 9 gives one clear InputError (and no output folder)."""

import os
import shutil

import pytest

from genoscreen.common.errors import InputError
from genoscreen.variants.make_examples import make_examples
from genoscreen.variants.pileup_config import PRESETS
from genoscreen.variants.reads import open_alignments
from tests.unit.variants.synth import make_dataset, write_bam, write_reference, write_truth

CFG = PRESETS["test"]


def test_bam_contig_naming_differs_from_reference(dataset, tmp_path):
    ds = make_dataset(tmp_path / "d", contig="20")
    ref = write_reference(tmp_path / "chr.fa", ds.seq, "chr20")
    with pytest.raises(InputError) as err:
        make_examples(ds.bam, ref, tmp_path / "out", config=CFG)
    msg = str(err.value)
    assert "20" in msg and "chr20" in msg and "--contig-map 20=chr20" in msg
    assert not (tmp_path / "out").exists()
    # the explicit map resolves it, for the BAM and a truth VCF in the BAM's naming alike
    summary = make_examples(ds.bam, ref, tmp_path / "out", config=CFG, contig_map="20=chr20", truth=ds.truth)
    assert summary["candidates"] == 5 and summary["truth_without_candidate"] == {"SNP": 0, "INDEL": 0}


def test_truth_contig_naming_differs(dataset, tmp_path):
    truth = write_truth(tmp_path / "t.vcf.gz", dataset.variants, contig="S")
    with pytest.raises(InputError, match=r"contig name\(s\) S .*chrS"):
        make_examples(dataset.bam, dataset.ref, tmp_path / "out", config=CFG, truth=truth)


def test_regions_contig_naming_differs(dataset, tmp_path):
    with pytest.raises(InputError, match="--contig-map S=chrS"):
        make_examples(dataset.bam, dataset.ref, tmp_path / "out", config=CFG, regions="S:1-100")


def test_region_past_contig_end(dataset, tmp_path):
    with pytest.raises(InputError, match="past the end of chrS"):
        make_examples(dataset.bam, dataset.ref, tmp_path / "out", config=CFG, regions="chrS:5000-7000")


def test_bam_without_index_is_indexed(dataset, tmp_path):
    bam = tmp_path / "noindex.bam"
    shutil.copy(dataset.bam, bam)
    assert not (tmp_path / "noindex.bam.bai").exists()
    summary = make_examples(bam, dataset.ref, tmp_path / "out", config=CFG)
    assert (tmp_path / "noindex.bam.bai").exists() and summary["candidates"] == 5


def test_bam_without_index_in_read_only_folder_is_refused(dataset, tmp_path, monkeypatch):
    bam = tmp_path / "noindex.bam"
    shutil.copy(dataset.bam, bam)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real_access(p, mode))
    with pytest.raises(InputError, match="no index .* read-only.*samtools index"):
        open_alignments(bam)


def test_unsorted_bam_is_refused(dataset, tmp_path):
    bam = write_bam(tmp_path / "shuffled.bam", dataset.seq, dataset.variants, shuffle=True, index=False)
    with pytest.raises(InputError, match="not sorted by coordinate.*samtools sort"):
        make_examples(bam, dataset.ref, tmp_path / "out", config=CFG)
    bam2 = write_bam(tmp_path / "declared.bam", dataset.seq, dataset.variants, sort_order="unsorted", index=False)
    with pytest.raises(InputError, match="SO:unsorted"):
        make_examples(bam2, dataset.ref, tmp_path / "out", config=CFG)


def test_truncated_bam_is_refused(dataset, tmp_path):
    bam = tmp_path / "cut.bam"
    data = dataset.bam.read_bytes()
    bam.write_bytes(data[: len(data) // 2])
    shutil.copy(str(dataset.bam) + ".bai", str(bam) + ".bai")
    with pytest.raises(InputError, match="truncated"):
        make_examples(bam, dataset.ref, tmp_path / "out", config=CFG)


def test_empty_bams_are_refused(dataset, tmp_path):
    zero = tmp_path / "zero.bam"
    zero.write_bytes(b"")
    with pytest.raises(InputError, match="empty file"):
        make_examples(zero, dataset.ref, tmp_path / "out", config=CFG)
    no_reads = write_bam(tmp_path / "noreads.bam", dataset.seq, dataset.variants, n_reads=0)
    with pytest.raises(InputError, match="no aligned reads"):
        make_examples(no_reads, dataset.ref, tmp_path / "out", config=CFG)


def test_not_a_bam_and_missing_files(dataset, tmp_path):
    text = tmp_path / "reads.sam"
    text.write_text("@HD\tVN:1.6\n")
    with pytest.raises(InputError, match="not a BAM or CRAM"):
        make_examples(text, dataset.ref, tmp_path / "out", config=CFG)
    with pytest.raises(InputError, match="not found"):
        make_examples(tmp_path / "missing.bam", dataset.ref, tmp_path / "out", config=CFG)
    with pytest.raises(InputError, match="reference FASTA not found"):
        make_examples(dataset.bam, tmp_path / "missing.fa", tmp_path / "out", config=CFG)


def test_reference_of_another_assembly(dataset, tmp_path):
    ref = write_reference(tmp_path / "short.fa", dataset.seq[:5000], "chrS")
    with pytest.raises(InputError, match="another assembly"):
        make_examples(dataset.bam, ref, tmp_path / "out", config=CFG)


def test_confident_bed_without_truth(dataset, tmp_path):
    bed = tmp_path / "c.bed"
    bed.write_text("chrS\t0\t100\n")
    with pytest.raises(InputError, match="--truth"):
        make_examples(dataset.bam, dataset.ref, tmp_path / "out", config=CFG, confident_bed=bed)


def test_bed_contig_naming_differs(dataset, tmp_path):
    bed = tmp_path / "r.bed"
    bed.write_text("S\t0\t100\n")
    with pytest.raises(InputError, match=r"r\.bed: line 1: .*--contig-map S=chrS"):
        make_examples(dataset.bam, dataset.ref, tmp_path / "out", config=CFG, bed=bed)


def test_default_regions_cover_every_contig_with_reads(dataset, tmp_path):
    summary = make_examples(dataset.bam, dataset.ref, tmp_path / "out", config=CFG, shard_size=1000)
    assert summary["candidates"] == 5


def test_out_is_a_file_or_foreign_folder(dataset, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        make_examples(dataset.bam, dataset.ref, f, config=CFG)
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="not an examples folder"):
        make_examples(dataset.bam, dataset.ref, other, config=CFG)
    assert (other / "keep.txt").exists()
