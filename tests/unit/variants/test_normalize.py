import pytest

from genoscreen.variants.normalize import RefSeq, normalize_allele, read_alleles, variant_type
from tests.unit.variants.synth import write_reference

#          0123456789012345678
SEQ = "GGCACACATTTTGCCAGTG" * 3


@pytest.fixture(scope="module")
def refseq(tmp_path_factory):
    import pysam

    path = write_reference(tmp_path_factory.mktemp("norm") / "r.fa", SEQ, "c")
    return RefSeq(pysam.FastaFile(str(path)))


def test_deletion_in_repeat_is_left_aligned(refseq):
    # deleting one CA of CACACA written at the right end moves to the leftmost position (anchor G at 1)
    assert normalize_allele(refseq, "c", 5, "ACA", "A") == [(1, "GCA", "G")]


def test_insertion_in_homopolymer_is_left_aligned(refseq):
    assert normalize_allele(refseq, "c", 11, "T", "TT") == [(7, "A", "AT")]


def test_padded_alleles_are_trimmed_and_mnps_split(refseq):
    assert normalize_allele(refseq, "c", 12, "GCC", "GTC") == [(13, "C", "T")]
    assert normalize_allele(refseq, "c", 12, "GC", "AT") == [(12, "G", "A"), (13, "C", "T")]
    assert normalize_allele(refseq, "c", 12, "G", "G") == []


def test_variant_type():
    assert variant_type("A", "C") == "SNP"
    assert variant_type("A", "AT") == "INDEL"
    assert variant_type("AT", "C") == "INDEL"


def test_read_alleles_splits_multiallelics_and_counts_copies(dataset):
    import pysam

    alleles = read_alleles(dataset.truth, pysam.FastaFile(str(dataset.ref)))
    copies = {(a.pos, a.alt): a.copies for a in alleles}
    v = dataset.variants
    assert copies[(v[1].pos, v[1].alts[0])] == 2  # hom
    assert copies[(v[4].pos, v[4].alts[0])] == 1 and copies[(v[4].pos, v[4].alts[1])] == 1  # 1/2
    assert len(alleles) == 6
