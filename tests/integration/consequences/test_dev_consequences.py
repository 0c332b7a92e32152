"""Protein consequences on the real dev data: GIAB's HG001 truth of the dev region with a hand-made annotation.

The annotation puts a made-up gene DEVG (plus strand, one 63 bp CDS, chr20:9,995,691-9,995,753, 21 codons and no
stop in hg19) over two GIAB SNVs phased on one haplotype (PS PATMAT): 9,995,722 T>A and 9,995,723 T>A, the 2nd and
3rd bases of codon 11, ATT (Ile). Worked out by hand: together AAA (Lys): p.Ile11Lys; unphased, each on its own,
AAT (Asn): p.Ile11Asn, and ATA (Ile): synonymous.
"""

import pandas as pd
import pysam

from genoscreen.consequences.proteins import consequences
from tests.integration.variants.dev_data import DEV, REF, TRUTH

ANNOTATION = ("##gff-version 3\n"
              "chr20\thand\tgene\t9995691\t9995753\t.\t+\t.\tID=g;Name=DEVG\n"
              "chr20\thand\tmRNA\t9995691\t9995753\t.\t+\t.\tID=t;Parent=g\n"
              "chr20\thand\tCDS\t9995691\t9995753\t.\t+\t0\tID=c;Parent=t\n")


def test_phased_giab_snvs_on_a_hand_made_gene(shared, tmp_path):
    d = shared(*DEV)
    (tmp_path / "devg.gff3").write_text(ANNOTATION)
    counts = consequences(d / TRUTH, d / REF, tmp_path / "devg.gff3", tmp_path / "out.tsv",
                          fasta_out=tmp_path / "m.fasta")
    table = pd.read_csv(tmp_path / "out.tsv", sep="\t")
    assert table[["pos", "hgvs_p", "consequence", "haplotype"]].values.tolist() == [
        ["9995722;9995723", "p.Ile11Lys", "missense", "PS:PATMAT:1"]]
    assert counts["skipped"] > 100  # every other GIAB variant of the region is outside the gene: listed, not lost
    reference = pysam.FastaFile(str(d / REF)).fetch("chr20", 9995690, 9995756).upper()  # + the next codon
    from Bio.Seq import translate

    expected = translate(reference).split("*")[0]
    assert len(expected) >= 21
    assert (tmp_path / "m.fasta").read_text().split("\n")[1] == expected[:10] + "K" + expected[11:]


def test_the_same_snvs_unphased(shared, tmp_path):
    d = shared(*DEV)
    (tmp_path / "devg.gff3").write_text(ANNOTATION)
    vcf = tmp_path / "unphased.vcf"
    with pysam.VariantFile(str(d / TRUTH)) as src:
        header = str(src.header)
        lines = [str(r).split("\t") for r in src.fetch("chr20", 9995690, 9995753)]
    vcf.write_text(header + "".join("\t".join(f[:8] + ["GT", "0/1"]) + "\n" for f in lines))
    consequences(vcf, d / REF, tmp_path / "devg.gff3", tmp_path / "out.tsv")
    table = pd.read_csv(tmp_path / "out.tsv", sep="\t")
    assert sorted(table["hgvs_p"]) == ["p.=", "p.Ile11Asn"]
