"""Protein consequences on a hand-made genome: two genes (plus strand with an intron, minus strand), variants whose
HGVS p. were worked out by hand from the codons below."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pysam
import pytest

from genoscreen.consequences.hgvs import describe

# chrT, 1-based: KIN1 (+): exon 1 CDS 51-62 ATG ACC GAA CTG (M T E L), intron 63-80, exon 2 CDS 81-95
# AAA GGC TTT CGT TAA (K G F R *), then GATAA (a stop two codons into a +1 frameshift). KIN2 (-): CDS 201-215 =
# reverse complement of ATG GCA TGG CCC TGA (M A W P *).
RNG = np.random.default_rng(3)


def _background(n: int) -> str:
    return "".join(RNG.choice(list("ACGT"), n))


KIN1_EXON1, KIN1_INTRON, KIN1_EXON2, KIN1_FLANK = "ATGACCGAACTG", "GTAAGTCCCCTTTTCTAG", "AAAGGCTTTCGTTAA", "GATAA"
KIN2_GENOMIC = "TCAGGGCCATGCCAT"  # reverse complement of ATGGCATGGCCCTGA
SEQ = (_background(50) + KIN1_EXON1 + KIN1_INTRON + KIN1_EXON2 + KIN1_FLANK + _background(100) + KIN2_GENOMIC
       + _background(85))
assert SEQ[50:62] == KIN1_EXON1 and SEQ[80:95] == KIN1_EXON2 and SEQ[200:215] == KIN2_GENOMIC

GFF3 = """##gff-version 3
chrT\ttest\tgene\t51\t95\t.\t+\t.\tID=g1;Name=KIN1
chrT\ttest\tmRNA\t51\t95\t.\t+\t.\tID=t1;Parent=g1
chrT\ttest\texon\t51\t62\t.\t+\t.\tParent=t1
chrT\ttest\tCDS\t51\t62\t.\t+\t0\tID=c1;Parent=t1
chrT\ttest\tCDS\t81\t95\t.\t+\t0\tID=c1;Parent=t1
chrT\ttest\tgene\t201\t215\t.\t-\t.\tID=g2;Name=KIN2
chrT\ttest\tmRNA\t201\t215\t.\t-\t.\tID=t2;Parent=g2
chrT\ttest\tCDS\t201\t215\t.\t-\t0\tID=c2;Parent=t2
chrT\ttest\tgene\t250\t262\t.\t+\t.\tID=g3;Name=BROKEN
chrT\ttest\tmRNA\t250\t262\t.\t+\t.\tID=t3;Parent=g3
chrT\ttest\tCDS\t250\t262\t.\t+\t0\tID=c3;Parent=t3
"""
GTF = "".join(
    f'chrT\ttest\tCDS\t{s}\t{e}\t.\t{strand}\t0\tgene_id "{g}"; transcript_id "{t}"; gene_name "{name}";\n'
    for s, e, strand, g, t, name in [(51, 62, "+", "g1", "t1", "KIN1"), (81, 95, "+", "g1", "t1", "KIN1"),
                                     (201, 215, "-", "g2", "t2", "KIN2"), (250, 262, "+", "g3", "t3", "BROKEN")])

# (pos, ref, alt, GT, PS, expected consequence, expected HGVS); GT "0|1" with a PS are one haplotype
VARIANTS = [
    (51, "A", "G", "0/1", None, "start_lost", "p.Met1?"),
    (55, "C", "T", "0/1", None, "missense", "p.Thr2Ile"),
    (56, "CGAA", "C", "1/1", None, "inframe_deletion", "p.Glu3del"),
    (57, "G", "GA", "0/1", None, "frameshift", "p.Leu4ThrfsTer8"),
    (70, "C", "T", "0/1", None, None, None),  # intronic: skipped
    (81, "A", "T", "0/1", None, "stop_gained", "p.Lys5Ter"),
    (84, "G", "T", "0|1", 84, "missense", "p.Gly6Tyr"),  # with 85 on one haplotype: GGC -> TAC
    (85, "G", "A", "0|1", 84, None, None),
    (211, "G", "A", "0/1", None, "missense", "p.Ala2Val"),  # minus strand: GCA -> GTA
]


def _write_vcf(path, variants, extra=()):
    header = ["##fileformat=VCFv4.2", "##contig=<ID=chrT,length=%d>" % len(SEQ),
              '##FILTER=<ID=LowQual,Description="low">',
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
              '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">',
              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1"]
    rows = [f"chrT\t{p}\t.\t{r}\t{a}\t50\tPASS\t.\tGT:PS\t{gt}:{ps if ps is not None else '.'}"
            for p, r, a, gt, ps, *_ in variants] + list(extra)
    path.write_text("\n".join(header + rows) + "\n")
    return path


@pytest.fixture
def genome(tmp_path):
    ref = tmp_path / "ref.fa"
    ref.write_text(f">chrT\n{SEQ}\n")
    pysam.faidx(str(ref))
    (tmp_path / "genes.gff3").write_text(GFF3)
    with gzip.open(tmp_path / "genes.gtf.gz", "wt") as handle:
        handle.write(GTF)
    return tmp_path, ref


@pytest.mark.parametrize("annotation", ["genes.gff3", "genes.gtf.gz"])
def test_every_hand_worked_consequence(genome, annotation, tmp_path):
    from genoscreen.consequences.proteins import consequences

    root, ref = genome
    vcf = _write_vcf(tmp_path / "calls.vcf", VARIANTS,
                     extra=["chrT\t60\t.\tC\tA\t3\tLowQual\t.\tGT:PS\t0/1:."])
    counts = consequences(vcf, ref, root / annotation, tmp_path / "out.tsv", fasta_out=tmp_path / "mutants.fasta")
    table = pd.read_csv(tmp_path / "out.tsv", sep="\t")
    got = {(str(r.pos).split(";")[0], r.hgvs_p): r.consequence for r in table.itertuples()}
    expected = {(str(p), h): c for p, _, _, _, _, c, h in VARIANTS if h}
    assert got == expected
    phased = table[table["hgvs_p"] == "p.Gly6Tyr"].iloc[0]
    assert phased["pos"] == "84;85" and phased["haplotype"] == "PS:84:1"
    assert set(table["gene"]) == {"KIN1", "KIN2"} and set(table["transcript"]) == {"t1", "t2"}
    skipped = pd.read_csv(tmp_path / "out.tsv.skipped.tsv", sep="\t")
    assert skipped["pos"].tolist() == [70] and "in no CDS" in skipped["reason"].iloc[0]
    assert counts["not_pass"] == 1 and counts["transcripts_skipped"] == 1  # BROKEN: 13 bp, not a multiple of 3
    from genoscreen.affinity.io.proteins import read_targets

    mutants = read_targets(tmp_path / "mutants.fasta")
    assert mutants["KIN1:p.Thr2Ile"] == "MIEL" + "KGFR"
    assert mutants["KIN1:p.Leu4ThrfsTer8"] == "MTETERLSLR"
    assert mutants["KIN2:p.Ala2Val"] == "MVWP" and mutants["KIN1:p.Lys5Ter"] == "MTEL"


def test_unphased_alleles_are_applied_one_at_a_time(genome, tmp_path):
    from genoscreen.consequences.proteins import consequences

    root, ref = genome
    vcf = _write_vcf(tmp_path / "u.vcf", [(84, "G", "T", "0/1", None), (85, "G", "A", "0/1", None)])
    consequences(vcf, ref, root / "genes.gff3", tmp_path / "u.tsv")
    assert sorted(pd.read_csv(tmp_path / "u.tsv", sep="\t")["hgvs_p"]) == ["p.Gly6Asp", "p.Gly6Cys"]


def test_a_deletion_across_the_exon_end_is_not_translated(genome, tmp_path):
    from genoscreen.consequences.proteins import consequences

    root, ref = genome
    vcf = _write_vcf(tmp_path / "s.vcf", [(61, "TGGT", "T", "0/1", None)])
    consequences(vcf, ref, root / "genes.gff3", tmp_path / "s.tsv")
    assert pd.read_csv(tmp_path / "s.tsv", sep="\t").empty
    assert "splice region" in pd.read_csv(tmp_path / "s.tsv.skipped.tsv", sep="\t")["reason"].iloc[0]


def test_bad_inputs_are_one_clear_line(genome, tmp_path, capsys):
    from genoscreen.cli import main

    root, ref = genome
    vcf = _write_vcf(tmp_path / "c.vcf", VARIANTS[:2])
    renamed = tmp_path / "chr.gff3"
    renamed.write_text(GFF3.replace("chrT", "T"))
    cases = [
        (["--annotation", str(renamed)], "are not those of"),
        (["--annotation", str(tmp_path / "none.gff3")], "annotation file not found"),
        (["--annotation", str(root / "genes.gff3"), "--sample", "S9"], "no sample 'S9'"),
    ]
    bad = tmp_path / "bad.gff3"
    bad.write_text("chrT\ttest\tCDS\tone\t95\t.\t+\t0\tParent=t1\n")
    cases.append((["--annotation", str(bad)], "feature line 1 cannot be read"))
    for extra, message in cases:
        code = main(["consequences", "--vcf", str(vcf), "--ref", str(ref), "--out", str(tmp_path / "o.tsv"), *extra])
        err = capsys.readouterr().err
        assert code == 2 and message in err and "Traceback" not in err, err
        assert not (tmp_path / "o.tsv").exists()
    assert main(["consequences", "--vcf", str(vcf), "--ref", str(ref), "--annotation", str(root / "genes.gff3"),
                 "--out", str(vcf)]) == 2  # never over an input


def test_describe_names_each_kind():
    assert describe("MTELKGFR", "MTELKGFR", False) == ("synonymous", "p.=")
    assert describe("MKGGGL", "MKGGGGL", False) == ("inframe_insertion", "p.Gly5dup")  # 3' rule
    assert describe("MKGL", "MKGAAL", False) == ("inframe_insertion", "p.Gly3_Leu4insAlaAla")
    assert describe("MKLPW", "MKSW", False) == ("inframe_deletion", "p.Leu3_Pro4delinsSer")
    assert describe("MKGL", "MKGLQQ", True, mutant_stops=True) == ("stop_lost", "p.Ter5GlnextTer2")
    assert describe("MKGLP", "MKGAV", True, mutant_stops=False) == ("frameshift", "p.Leu4AlafsTer?")
