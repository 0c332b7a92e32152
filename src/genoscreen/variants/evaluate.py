"""hap.py-style evaluation of a call set against a truth set, by variant type.

Both VCFs are normalised (multi-allelics split, left-aligned, trimmed, MNPs split into SNPs) and restricted to
variants whose span lies inside `bed` and `regions`. Each normalised alt allele is matched by (contig, pos, ref, alt)
and by genotype (copies of the allele, 1 or 2): same allele and genotype = TP; same allele, other genotype = one FP
and one FN; truth only = FN; calls only = FP. Only PASS (or unfiltered) calls with a non-reference GT count.
"""

from __future__ import annotations

from pathlib import Path

from genoscreen.variants.normalize import read_alleles
from genoscreen.variants.regions import ContigMap, open_reference, parse_regions, read_bed, reference_lengths

TYPES = ("SNP", "INDEL")


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 6) if b else None


def score(tp: int, fp: int, fn: int) -> dict:
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = round(2 * precision * recall / (precision + recall), 6) if precision and recall else (0.0 if (fp or fn) else None)
    return {"TP": tp, "FP": fp, "FN": fn, "precision": precision, "recall": recall, "F1": f1}


def evaluate(truth_vcf: str | Path, calls_vcf: str | Path, ref: str | Path, bed: str | Path | None = None,
             regions: str | None = None, contig_map: ContigMap | str | None = None) -> dict:
    """SNP and INDEL TP/FP/FN, precision, recall, F1 (and genotype errors) of `calls_vcf` against `truth_vcf`."""
    if not isinstance(contig_map, ContigMap):
        contig_map = ContigMap.parse(contig_map)
    fasta = open_reference(ref)
    lengths = reference_lengths(fasta)
    region_list = parse_regions(regions, lengths, contig_map) if regions else None
    bed_list = read_bed(bed, lengths, contig_map) if bed else None
    truth = {a.key: a for a in read_alleles(truth_vcf, fasta, contig_map=contig_map, regions=region_list,
                                            bed=bed_list, what="truth VCF")}
    calls = {a.key: a for a in read_alleles(calls_vcf, fasta, contig_map=contig_map, regions=region_list,
                                            bed=bed_list, what="call VCF")}
    counts = {t: {"TP": 0, "FP": 0, "FN": 0, "genotype_errors": 0, "truth": 0, "calls": 0} for t in TYPES}
    for key in truth.keys() | calls.keys():
        t, c = truth.get(key), calls.get(key)
        kind = (t or c).type
        row = counts[kind]
        if t is not None:
            row["truth"] += 1
        if c is not None:
            row["calls"] += 1
        if t is not None and c is not None:
            if t.copies == c.copies:
                row["TP"] += 1
            else:
                row["FP"] += 1
                row["FN"] += 1
                row["genotype_errors"] += 1
        elif t is not None:
            row["FN"] += 1
        else:
            row["FP"] += 1
    result = {}
    for kind in TYPES:
        row = counts[kind]
        result[kind] = {**score(row["TP"], row["FP"], row["FN"]), "genotype_errors": row["genotype_errors"],
                        "truth_alleles": row["truth"], "call_alleles": row["calls"]}
    total = {k: sum(counts[t][k] for t in TYPES) for k in ("TP", "FP", "FN", "genotype_errors")}
    result["ALL"] = {**score(total["TP"], total["FP"], total["FN"]), "genotype_errors": total["genotype_errors"],
                     "truth_alleles": sum(counts[t]["truth"] for t in TYPES),
                     "call_alleles": sum(counts[t]["calls"] for t in TYPES)}
    result["inputs"] = {"truth": str(truth_vcf), "calls": str(calls_vcf), "ref": str(ref),
                        "bed": str(bed) if bed else None, "regions": regions}
    return result


def format_table(result: dict) -> str:
    """A fixed-width text table of the evaluation (one row per type)."""
    def fmt(x):
        return "NA" if x is None else f"{x:.4f}" if isinstance(x, float) else str(x)

    cols = ("TP", "FP", "FN", "genotype_errors", "precision", "recall", "F1")
    lines = ["type   " + " ".join(f"{c:>15}" for c in cols)]
    for kind in (*TYPES, "ALL"):
        lines.append(f"{kind:<6} " + " ".join(f"{fmt(result[kind][c]):>15}" for c in cols))
    return "\n".join(lines) + "\n"
