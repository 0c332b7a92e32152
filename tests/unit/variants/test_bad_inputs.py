"""Each bad input named in issue 4 item 9 gives one clear InputError (and no output folder)."""

import os
import shutil

import pytest

from genoscreen.common.errors import InputError
from genoscreen.variants.make_examples import iter_examples, make_examples, plan
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


# issue #21, "Misleading messages": each names the real cause and its fix


def _cram(dataset, folder):
    """The dataset's reads as a CRAM whose own reference (its header's UR) is gone afterwards."""
    import pysam

    folder.mkdir()
    ref = shutil.copy(dataset.ref, folder / "orig.fa")
    pysam.faidx(str(ref))
    cram = folder / "reads.cram"
    pysam.view("-O", "cram", "-T", str(ref), "-o", str(cram), str(dataset.bam), catch_stdout=False)
    pysam.index(str(cram))
    os.remove(ref)
    os.remove(f"{ref}.fai")
    return cram


def test_cram_with_another_reference_is_not_called_truncated(dataset, tmp_path):
    from tests.unit.variants.synth import random_genome

    cram = _cram(dataset, tmp_path / "c")
    other = write_reference(tmp_path / "other.fa", random_genome(seed=99), "chrS")
    with pytest.raises(InputError) as err:
        list(iter_examples(cram, other, config=CFG, regions="chrS:1-6000"))
    msg = str(err.value)
    assert "truncated" not in msg and "not the reference it was written with" in msg and "M5:" in msg
    assert "samtools view -b -T" in msg
    renamed = write_reference(tmp_path / "renamed.fa", dataset.seq, "chrX")
    with pytest.raises(InputError, match="contig chrS, which .*renamed.fa lacks .*--ref") as err:
        list(iter_examples(cram, renamed, config=CFG, regions="chrX:1-6000", contig_map="chrS=chrX"))
    assert "truncated" not in str(err.value)
    assert len(list(iter_examples(cram, dataset.ref, config=CFG, regions="chrS:1-6000"))) > 0


def test_stale_index_is_named(dataset, tmp_path, monkeypatch):
    import pysam

    bam = tmp_path / "stale.bam"  # half the reads, rewritten after its index was made
    pysam.view("-b", "-s", "0.5", "-o", str(bam), str(dataset.bam), catch_stdout=False)
    shutil.copy(str(dataset.bam) + ".bai", str(bam) + ".bai")
    os.utime(str(bam) + ".bai", (1_000_000_000, 1_000_000_000))
    with pytest.raises(InputError) as err:
        list(iter_examples(bam, dataset.ref, config=CFG, regions="chrS:1-6000"))
    msg = str(err.value)
    assert "truncated" not in msg and "older than the file" in msg and f"`samtools index {bam}`" in msg
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real_access(p, mode))
    with pytest.raises(InputError, match="older than the file.*read-only, so index a copy: `cp .*samtools index"):
        list(iter_examples(bam, dataset.ref, config=CFG, regions="chrS:1-6000"))


def test_region_on_a_contig_the_bam_lacks(dataset, tmp_path):
    ref = tmp_path / "two.fa"
    ref.write_text(dataset.ref.read_text() + ">chrT\n" + "ACGT" * 100 + "\n")
    bed = tmp_path / "t.bed"
    bed.write_text("chrT\t0\t100\n")
    for kwargs in ({"regions": "chrT:1-100"}, {"bed": bed}):
        with pytest.raises(InputError) as err:
            plan(dataset.bam, ref, config=CFG, **kwargs)
        msg = str(err.value)
        assert "do not match" not in msg and "has no contig chrT (it names chrS)" in msg
        assert "leave chrT out of --regions/--bed" in msg
    # another naming still suggests the map
    with pytest.raises(InputError, match="--contig-map chrS=S"):
        plan(make_dataset(tmp_path / "d", contig="chrS").bam, write_reference(tmp_path / "s.fa", dataset.seq, "S"),
             config=CFG, regions="S:1-100")


def test_unsorted_bam_without_hd_says_unsorted(dataset, tmp_path):
    import random

    import pysam

    lines = pysam.view("-h", str(dataset.bam)).splitlines()
    body = [x for x in lines if not x.startswith("@")]
    random.Random(3).shuffle(body)
    sam = tmp_path / "u.sam"
    sam.write_text("\n".join([x for x in lines if x.startswith("@SQ")] + body) + "\n")
    bam = tmp_path / "u.bam"
    pysam.view("-b", "-o", str(bam), str(sam), catch_stdout=False)
    with pytest.raises(InputError) as err:
        plan(bam, dataset.ref, config=CFG)
    msg = str(err.value)
    assert "not sorted by coordinate (read r" in msg and f"`samtools sort -o sorted.bam {bam}`" in msg
    assert "is it a valid BAM" not in msg


def test_reference_without_fai_in_read_only_folder(dataset, tmp_path, monkeypatch):
    ref = shutil.copy(dataset.ref, tmp_path / "ref.fa")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real_access(p, mode))
    with pytest.raises(InputError, match=r"ref\.fa: reference FASTA has no \.fai index and its folder is read-only, "
                                         r"so index a copy: `cp .* && samtools faidx DIR/ref\.fa`"):
        plan(dataset.bam, ref, config=CFG)
    assert not (tmp_path / "ref.fa.fai").exists()


def test_bed_with_several_bad_lines_reports_the_count_and_the_first(dataset, tmp_path):
    bed = tmp_path / "bad.bed"
    bed.write_text("chrS\t0\t100\nchrS\tx\t200\nchrS\t300\nchrS\t10\t5\nchrS\t0\t9999\nS\t0\t10\n")
    with pytest.raises(InputError) as err:
        plan(dataset.bam, dataset.ref, config=CFG, bed=bed)
    msg = str(err.value)
    assert msg.startswith(f"{bed}: 5 bad lines, first: line 2: ") and "line 3: " in msg and "line 4: " in msg
    assert "line 5" not in msg and msg.endswith("and 2 more") and "\n" not in msg
