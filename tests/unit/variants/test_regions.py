import pytest

from genoscreen.common.errors import InputError
from genoscreen.variants.regions import (ContigMap, IntervalSet, Region, check_contigs, intersect_regions,
                                         merge_regions, parse_regions, read_bed, shard_regions)

LENGTHS = {"chr20": 1000, "chr21": 500}


def test_parse_regions_one_based_inclusive():
    assert parse_regions("chr20:11-20", LENGTHS) == [Region("chr20", 10, 20)]
    assert parse_regions("chr21", LENGTHS) == [Region("chr21", 0, 500)]
    assert parse_regions("chr20:1-10,chr20:5-30,chr21:1-1", LENGTHS) == [Region("chr20", 0, 30), Region("chr21", 0, 1)]
    assert str(Region("chr20", 10, 20)) == "chr20:11-20"


def test_region_past_contig_end_is_refused():
    with pytest.raises(InputError, match=r"past the end of chr20 \(length 1,000"):
        parse_regions("chr20:900-1001", LENGTHS)


@pytest.mark.parametrize("spec", ["chr20:0-5", "chr20:10-5", "chr20:a-b", "chr20:1-2:3"])
def test_malformed_regions_are_refused(spec):
    with pytest.raises(InputError):
        parse_regions(spec, LENGTHS)


def test_contig_naming_mismatch_names_both_and_suggests_contig_map():
    with pytest.raises(InputError) as err:
        parse_regions("20:1-10", LENGTHS)
    msg = str(err.value)
    assert "20" in msg and "chr20" in msg and "--contig-map 20=chr20" in msg
    assert parse_regions("20:1-10", LENGTHS, ContigMap.parse("20=chr20")) == [Region("chr20", 0, 10)]


def test_contig_map_from_file_and_bad_spec(tmp_path):
    f = tmp_path / "map.tsv"
    f.write_text("20\tchr20\n# comment\n21 chr21\n")
    cmap = ContigMap.parse(str(f))
    assert cmap("20") == "chr20" and cmap("X") == "X"
    assert cmap.inverse("chr21", ["21"]) == "21"
    with pytest.raises(InputError, match="NAME=REFNAME"):
        ContigMap.parse("20:chr20")


def test_check_contigs_passes_when_mapped():
    check_contigs(["20"], LENGTHS, "x.bam", "ref", ContigMap({"20": "chr20"}))


def test_shard_and_merge_and_intersect():
    shards = shard_regions([Region("chr20", 0, 250)], 100)
    assert shards == [Region("chr20", 0, 100), Region("chr20", 100, 200), Region("chr20", 200, 250)]
    assert merge_regions([Region("c", 5, 10), Region("c", 0, 5)]) == [Region("c", 0, 10)]
    assert intersect_regions([Region("c", 0, 100)], [Region("c", 50, 150), Region("d", 0, 5)]) == [Region("c", 50, 100)]


def test_read_bed_checks_reference(tmp_path):
    bed = tmp_path / "a.bed"
    bed.write_text("track name=x\nchr20\t10\t20\nchr20\t15\t30\n")
    assert read_bed(bed, LENGTHS) == [Region("chr20", 10, 30)]
    bad = tmp_path / "b.bed"
    bad.write_text("chr20\t10\n")
    with pytest.raises(InputError, match="line 1"):
        read_bed(bad, LENGTHS)
    past = tmp_path / "c.bed"
    past.write_text("chr20\t10\t2000\n")
    with pytest.raises(InputError, match="past the end"):
        read_bed(past, LENGTHS)


def test_interval_set_span_containment():
    s = IntervalSet([Region("c", 10, 20), Region("c", 30, 40)])
    assert s.contains("c", 10) and not s.contains("c", 20)
    assert s.contains_span("c", 12, 20) and not s.contains_span("c", 18, 31)
    assert not s.contains("d", 15)
