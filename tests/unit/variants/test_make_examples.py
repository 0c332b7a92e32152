import json

import numpy as np
import pytest

from genoscreen.common.errors import InputError
from genoscreen.variants.examples import FIELDS, iter_shards, load_shard, read_examples, read_summary, write_shard
from genoscreen.variants.make_examples import iter_examples, make_examples
from genoscreen.variants.pileup_config import CONFIG_FILENAME, PRESETS, PileupConfig


@pytest.fixture(scope="module")
def labelled(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("ex") / "examples"
    summary = make_examples(dataset.bam, dataset.ref, out, truth=dataset.truth, config=PRESETS["test"],
                            shard_size=2000, examples_per_file=3)
    return out, summary


def test_folder_layout_and_summary(labelled):
    out, summary = labelled
    assert set(summary) == {"sample", "candidates", "examples", "truth", "truth_without_candidate", "bam", "reference",
                            "regions", "bam_names", "read_groups"}  # the last five: what postprocess --gvcf needs
    assert summary == read_summary(out)
    assert summary["candidates"] == 5 and summary["examples"] == 7
    assert summary["truth"] == {"SNP": 4, "INDEL": 2}
    assert summary["truth_without_candidate"] == {"SNP": 0, "INDEL": 0}
    assert PileupConfig.read(out) == PRESETS["test"]
    names = sorted(p.name for p in out.iterdir())
    assert names == ["examples-00000.npz", "examples-00001.npz", CONFIG_FILENAME, "summary.json"]


def test_labels_match_truth_genotypes(labelled, dataset):
    arrays = read_examples(labelled[0])
    assert set(arrays) == set(FIELDS)
    got = {(int(p), i): int(l) for p, i, l in zip(arrays["pos"], arrays["alt_indices"], arrays["label"])}
    v = dataset.variants
    assert got[(v[0].pos + 1, "1")] == 1  # het SNV
    assert got[(v[1].pos + 1, "1")] == 2  # hom SNV
    assert got[(v[3].pos + 1, "1")] == 1  # het insertion
    assert got[(v[4].pos + 1, "1")] == 1 and got[(v[4].pos + 1, "2")] == 1 and got[(v[4].pos + 1, "1,2")] == 2
    assert arrays["tensors"].shape == (7, *PRESETS["test"].shape)
    assert arrays["label"].dtype == np.int8 and arrays["pos"].dtype == np.int64 and arrays["depth"].dtype == np.int32


def test_shards_have_no_object_arrays(labelled):
    for path, arrays in iter_shards(labelled[0]):
        with np.load(path, allow_pickle=False) as data:
            assert all(data[k].dtype != object for k in data.files)
        assert arrays["alts"].dtype.kind == "U"


def test_no_truth_gives_minus_one_and_zero_truth_counts(dataset, tmp_path):
    summary = make_examples(dataset.bam, dataset.ref, tmp_path / "ex", config=PRESETS["test"])
    assert summary["truth"] == {"SNP": 0, "INDEL": 0}
    assert (read_examples(tmp_path / "ex")["label"] == -1).all()


def test_confident_bed_leaves_out_other_candidates(dataset, tmp_path):
    bed = tmp_path / "conf.bed"
    bed.write_text("chrS\t1500\t4500\n")
    summary = make_examples(dataset.bam, dataset.ref, tmp_path / "ex", truth=dataset.truth, confident_bed=bed,
                            config=PRESETS["test"])
    assert summary["candidates"] == 3 and summary["truth"] == {"SNP": 1, "INDEL": 2}
    assert set(read_examples(tmp_path / "ex")["pos"]) == {dataset.variants[1].pos + 1, 3000, dataset.variants[3].pos + 1}  # deletion left-aligned by one


def test_threads_and_in_memory_iteration_give_the_same_examples(dataset, tmp_path, labelled):
    one = read_examples(labelled[0])
    make_examples(dataset.bam, dataset.ref, tmp_path / "ex2", truth=dataset.truth, config=PRESETS["test"],
                  shard_size=2000, threads=2)
    two = read_examples(tmp_path / "ex2")
    mem = list(iter_examples(dataset.bam, dataset.ref, "chrS", PRESETS["test"], truth=dataset.truth, shard_size=2000))
    for k in FIELDS:
        assert np.array_equal(one[k], two[k]), k
        assert np.array_equal(one[k], np.concatenate([m[k] for m in mem])), k


def test_shard_of_another_shape_is_refused(labelled, tmp_path):
    out = tmp_path / "ex"
    out.mkdir()
    PileupConfig().write(out)
    arrays = load_shard(labelled[0] / "examples-00000.npz")
    write_shard(out / "examples-00000.npz", arrays)
    with pytest.raises(InputError, match="remake the examples"):
        read_examples(out)
    with pytest.raises(InputError, match="pileup_config.json"):
        read_examples(tmp_path)


def test_write_shard_rejects_object_arrays(tmp_path, labelled):
    arrays = load_shard(labelled[0] / "examples-00000.npz")
    arrays["ref"] = arrays["ref"].astype(object)
    with pytest.raises(ValueError, match="object"):
        write_shard(tmp_path / "x.npz", arrays)
    assert not (tmp_path / "x.npz").exists()


def test_corrupt_shard_is_a_clear_error(tmp_path):
    bad = tmp_path / "examples-00000.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable examples shard"):
        load_shard(bad)


def test_summary_is_plain_json(labelled):
    json.loads((labelled[0] / "summary.json").read_text())


def test_cram_without_regions_calls_every_contig_as_a_bam_does(dataset, tmp_path):
    """A .crai counts no reads per contig, so 'the contigs with reads' must not come out empty for a CRAM."""
    import shutil
    import subprocess

    if shutil.which("samtools") is None:
        pytest.skip("needs samtools (apt-get install samtools)")
    cram = tmp_path / "reads.cram"
    subprocess.run(["samtools", "view", "-C", "-T", str(dataset.ref), "-o", str(cram), str(dataset.bam)], check=True)
    subprocess.run(["samtools", "index", str(cram)], check=True)
    a = make_examples(dataset.bam, dataset.ref, tmp_path / "bam_ex", config=PRESETS["test"])
    b = make_examples(cram, dataset.ref, tmp_path / "cram_ex", config=PRESETS["test"])
    assert a["candidates"] > 0 and a["regions"] == b["regions"] and a["examples"] == b["examples"]
    ea, eb = read_examples(tmp_path / "bam_ex"), read_examples(tmp_path / "cram_ex")
    for k in FIELDS:
        assert np.array_equal(ea[k], eb[k]), k


def _two_sample_bam(dataset, tmp_path):
    """The dataset's reads as sample A plus reads of the bare reference as sample B, in one sorted, indexed BAM."""
    import pysam

    from tests.unit.variants.synth import write_bam

    plain = write_bam(tmp_path / "ref_only.bam", dataset.seq, [], seed=9)
    header = pysam.AlignmentFile(str(dataset.bam)).header.to_dict()
    header["RG"] = [{"ID": "ga", "SM": "A"}, {"ID": "gb", "SM": "B"}]
    unsorted = tmp_path / "two.unsorted.bam"
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for path, group in ((dataset.bam, "ga"), (plain, "gb")):
            for read in pysam.AlignmentFile(str(path)):
                read = pysam.AlignedSegment.fromstring(read.to_string(), out.header)
                read.query_name = f"{group}_{read.query_name}"
                read.set_tag("RG", group)
                out.write(read)
    merged = tmp_path / "two.bam"
    pysam.sort("-o", str(merged), str(unsorted))
    pysam.index(str(merged))
    return merged


def test_sample_keeps_only_its_read_groups(dataset, tmp_path):
    """A multi-sample BAM: --sample calls that sample's reads alone (as its own BAM would be called); without it
    the run is refused rather than pooling two people's reads; an unknown sample names the ones there are."""
    bam = _two_sample_bam(dataset, tmp_path)
    alone = make_examples(dataset.bam, dataset.ref, tmp_path / "alone", config=PRESETS["test"])
    a = make_examples(bam, dataset.ref, tmp_path / "a", config=PRESETS["test"], sample="A")
    assert a["sample"] == "A" and a["read_groups"] == ["ga"] and a["candidates"] == alone["candidates"] > 0
    ea, eb = read_examples(tmp_path / "alone"), read_examples(tmp_path / "a")
    for key in ("pos", "alts", "depth", "allele_depths"):  # counted from sample A's reads only, as in its own BAM
        assert np.array_equal(ea[key], eb[key]), key
    b = make_examples(bam, dataset.ref, tmp_path / "b", config=PRESETS["test"], sample="B")
    assert b["candidates"] == 0  # the bare reference's reads: nothing to call
    with pytest.raises(InputError, match="several samples; pass --sample"):
        make_examples(bam, dataset.ref, tmp_path / "x", config=PRESETS["test"])
    with pytest.raises(InputError, match="no read group of sample 'C'.*A, B"):
        make_examples(bam, dataset.ref, tmp_path / "x", config=PRESETS["test"], sample="C")
    # a single-sample BAM: --sample only names the sample, it filters nothing
    renamed = make_examples(dataset.bam, dataset.ref, tmp_path / "renamed", config=PRESETS["test"], sample="Z")
    assert renamed["sample"] == "Z" and renamed["read_groups"] == [] and renamed["examples"] == alone["examples"]
