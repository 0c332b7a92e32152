"""Stage 3: genotype probabilities -> a sorted VCF 4.2 (and optionally a gVCF), written by vcf.py (.vcf.gz, .vcf,
.bcf or stdout).

Each site may have several examples (DeepVariant's scheme): one per alt allele and one per pair of alts, each
with probabilities of 0/1/2 copies of *its* alts. The probability of a genotype (i, j) is the minimum, over the
site's examples S, of p_S[number of i, j in S], renormalised over genotypes; so every example must agree with
a genotype for it to be likely. Alts that the called genotype does not use are dropped from the record.

Fields: GT, GQ = phred(1 - p(GT)), PL (normalised phred of the genotype probabilities), QUAL = phred(p(0/0)),
DP, AD, VAF. FILTER: RefCall when GT is 0/0, LowQual when QUAL < min_qual, else PASS.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from genoscreen import __version__
from genoscreen.caller import vcf
from genoscreen.common.errors import InputError
from genoscreen.variants.candidates import ReadFilters

log = logging.getLogger(__name__)

MAX_GQ = 99
MAX_PHRED = 990
P_FLOOR = 1e-10
GVCF_GQ_BANDS = np.array([1, 2, 3, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99])  # lower edges, as GATK's bands
REF_ERROR = 1e-3  # per-base error rate of the reference-confidence model for gVCF blocks

FILTER_LINES = [
    '##FILTER=<ID=PASS,Description="All filters passed">',
    '##FILTER=<ID=RefCall,Description="Genotyping model thinks this site is reference">',
    '##FILTER=<ID=LowQual,Description="Confidence in this variant being real is below the calling threshold (QUAL < {min_qual:g})">',
]
FORMAT_LINES = [
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality: phred of 1 - p(GT)">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth at the site">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Read depth for each allele">',
    '##FORMAT=<ID=VAF,Number=A,Type=Float,Description="Variant allele fraction: AD of the alt / DP">',
    '##FORMAT=<ID=PL,Number=G,Type=Integer,Description="Phred-scaled genotype likelihoods, normalised to 0 for the most likely">',
]
GVCF_LINES = [
    '##ALT=<ID=*,Description="Represents any possible alternative allele at this location">',
    '##INFO=<ID=END,Number=1,Type=Integer,Description="End position of the reference block (1-based, inclusive)">',
    '##FORMAT=<ID=MIN_DP,Number=1,Type=Integer,Description="Minimum DP observed within the reference block">',
]


@dataclasses.dataclass
class Call:
    """One VCF record before formatting."""

    contig: str
    pos: int  # 1-based
    ref: str
    alts: list[str]
    gt: tuple[int, int]
    gq: int
    qual: float
    pl: list[int]
    dp: int
    ad: list[int]
    filter: str

    @property
    def end(self) -> int:
        """Last reference base covered (1-based inclusive)."""
        return self.pos + len(self.ref) - 1


def phred(p: float) -> float:
    return -10.0 * math.log10(max(p, P_FLOOR))


def genotypes(n_alleles: int) -> list[tuple[int, int]]:
    """All unordered genotypes in VCF order: (j, k) with j <= k at index k(k+1)/2 + j."""
    return [(j, k) for k in range(n_alleles) for j in range(k + 1)]


def genotype_probabilities(n_alts: int, by_key: dict[tuple[int, ...], np.ndarray]) -> np.ndarray:
    """Probabilities of every genotype (VCF order) from per-alt-set probabilities of 0/1/2 copies."""
    probs = []
    for gt in genotypes(n_alts + 1):
        p = 1.0
        for key, prob in by_key.items():
            copies = sum(1 for allele in gt if allele in key)
            p = min(p, float(prob[copies]))
        probs.append(max(p, P_FLOOR))
    probs = np.asarray(probs)
    return probs / probs.sum()


def _trim_suffix(ref: str, alts: Sequence[str]) -> tuple[str, list[str]]:
    """Drop bases shared at the right end of REF and every ALT (keeping one), for a minimal representation."""
    alts = list(alts)
    while len(ref) > 1 and all(len(a) > 1 and a[-1] == ref[-1] for a in alts):
        ref, alts = ref[:-1], [a[:-1] for a in alts]
    return ref, alts


def merge_site(contig: str, pos: int, ref: str, alts: list[str], by_key: dict[tuple[int, ...], np.ndarray],
               depth: int, allele_depths: list[int], min_qual: float) -> Call:
    """One record from a site's examples (see the module docstring)."""
    probs = genotype_probabilities(len(alts), by_key)
    gts = genotypes(len(alts) + 1)
    best = int(np.argmax(probs))
    gt = gts[best]
    qual = phred(probs[0])
    keep = list(range(len(alts) + 1))
    if gt != (0, 0) and len(alts) > 1:
        keep = [0] + sorted({a for a in gt if a > 0})
    if len(keep) < len(alts) + 1:  # re-express over the kept alleles
        index = {old: new for new, old in enumerate(keep)}
        sub = [gts.index((keep[j], keep[k])) for j, k in genotypes(len(keep))]
        probs = probs[sub] / probs[sub].sum()
        gt = tuple(sorted(index[a] for a in gt))
        alts = [alts[i - 1] for i in keep[1:]]
        allele_depths = [allele_depths[i] if i < len(allele_depths) else 0 for i in keep]
        best = genotypes(len(keep)).index(gt)
        ref, alts = _trim_suffix(ref, alts)
    gq = int(min(MAX_GQ, round(phred(1.0 - probs[best]))))
    pl_raw = [phred(p) for p in probs]
    low = min(pl_raw)
    pl = [int(min(MAX_PHRED, round(x - low))) for x in pl_raw]
    ad = (list(allele_depths) + [0] * (len(alts) + 1))[: len(alts) + 1]
    if gt == (0, 0):
        filt = "RefCall"
    elif qual < min_qual:
        filt = "LowQual"
    else:
        filt = "PASS"
    return Call(contig, pos, ref, alts, gt, gq, round(qual, 2), pl, int(depth), ad, filt)


def _parse_ints(text: str) -> list[int]:
    return [int(x) for x in str(text).split(",") if x != ""]


def merge_calls(sites: dict[str, np.ndarray], probs: np.ndarray, min_qual: float = 1.0) -> list[Call]:
    """Group examples by site (contig, pos, ref, alts) and merge each into one Call, in input order."""
    groups: dict[tuple, dict] = {}
    for i in range(len(probs)):
        key = (str(sites["contig"][i]), int(sites["pos"][i]), str(sites["ref"][i]), str(sites["alts"][i]))
        group = groups.setdefault(key, {"by_key": {}, "depth": int(sites["depth"][i]),
                                        "ad": _parse_ints(sites["allele_depths"][i])})
        try:
            alt_key = tuple(sorted(_parse_ints(sites["alt_indices"][i])))
        except ValueError:
            alt_key = ()
        n_alts = key[3].count(",") + 1
        if not alt_key or min(alt_key) < 1 or max(alt_key) > n_alts:
            raise InputError(f"example {key[0]}:{key[1]} {key[2]}>{key[3]}: alt_indices {sites['alt_indices'][i]!r} "
                             f"out of range 1..{n_alts}; remake the examples")
        group["by_key"][alt_key] = probs[i]
    calls = []
    for (contig, pos, ref, alts), g in groups.items():
        calls.append(merge_site(contig, pos, ref, alts.split(","), g["by_key"], g["depth"], g["ad"], min_qual))
    return calls


def _format_call(call: Call, gvcf: bool) -> str:
    alts = list(call.alts)
    ad = list(call.ad)
    pl = list(call.pl)
    dp = call.dp
    vaf = [a / dp if dp else 0.0 for a in ad[1:]]
    if gvcf:  # add the <*> allele: it gets no reads and the largest PL wherever it appears
        n = len(alts) + 1
        alts.append("<*>")
        ad.append(0)
        vaf.append(0.0)
        old = {gt: v for gt, v in zip(genotypes(n), pl)}
        pl = [old.get(gt, MAX_PHRED) for gt in genotypes(n + 1)]
    gt = "/".join(map(str, call.gt))
    fmt = f"{gt}:{call.gq}:{dp}:{','.join(map(str, ad))}:{','.join(f'{v:.4g}' for v in vaf)}:{','.join(map(str, pl))}"
    qual = f"{call.qual:.4g}"
    return "\t".join([call.contig, str(call.pos), ".", call.ref, ",".join(alts), qual, call.filter, ".",
                      "GT:GQ:DP:AD:VAF:PL", fmt])


def vcf_header(contigs: Sequence[tuple[str, int]], sample: str, gvcf: bool, extra: Iterable[str] = (),
               min_qual: float = 1.0) -> list[str]:
    filters = [line.format(min_qual=min_qual) if "{min_qual" in line else line for line in FILTER_LINES]
    lines = ["##fileformat=VCFv4.2", *filters, *(GVCF_LINES if gvcf else []), *FORMAT_LINES]
    lines += [f"##contig=<ID={name},length={length}>" for name, length in contigs]
    lines += [f"##source=genoscreen {__version__}", *extra]
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", sample]))
    return lines


def sort_calls(calls: list[Call], contig_order: Sequence[str], what: str = "probabilities") -> list[Call]:
    rank = {name: i for i, name in enumerate(contig_order)}
    unknown = sorted({c.contig for c in calls} - set(rank))
    if unknown:
        raise InputError(f"{what}: contigs {unknown[:5]} are not in the reference; use the reference the examples "
                         "were made with")
    return sorted(calls, key=lambda c: (rank[c.contig], c.pos, c.ref, c.alts))


# --- gVCF reference blocks -------------------------------------------------------------------------------------


def reference_confidence(depth: np.ndarray, ref_count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(GQ, PL [n,3]) per position from a binomial model of ref vs non-ref reads (as DeepVariant's gVCF)."""
    e = REF_ERROR
    alt = depth - ref_count
    loglik = np.stack([
        ref_count * np.log10(1 - e) + alt * np.log10(e),
        depth * np.log10(0.5),
        ref_count * np.log10(e) + alt * np.log10(1 - e),
    ], axis=1)
    loglik -= loglik.max(axis=1, keepdims=True)
    post = 10.0 ** loglik
    post /= post.sum(axis=1, keepdims=True)
    gq = np.minimum(MAX_GQ, np.round(-10 * np.log10(np.maximum(1 - post[:, 0], P_FLOOR)))).astype(int)
    gq = np.where(depth > 0, gq, 0)  # no reads: all PLs 0 and no confidence (the flat posterior would give GQ 2)
    pl = np.minimum(MAX_PHRED, np.round(-10 * loglik + 10 * loglik.max(axis=1, keepdims=True))).astype(int)
    pl = pl - pl.min(axis=1, keepdims=True)
    return gq, pl


def reference_blocks(bam, fasta, regions, calls: list[Call], bam_names: dict[str, str] | None = None,
                     min_mapq: int = 10, min_baseq: int = 10,
                     read_groups: tuple[str, ...] = ()) -> list[tuple[str, int, str]]:
    """gVCF reference-block lines (as (contig, pos, line)) covering `regions` outside the called records; with
    `read_groups`, only their reads count (one sample of a multi-sample BAM).

    Consecutive positions share a block while their GQ falls in the same band of GVCF_GQ_BANDS; the block reports
    the minimum GQ (with its PL) and the minimum depth. Positions with an N in the reference are left out.
    """
    covered: dict[str, list[tuple[int, int]]] = {}
    for call in calls:
        covered.setdefault(call.contig, []).append((call.pos - 1, call.end))
    lines = []
    counted = ReadFilters(min_mapq=min_mapq, read_groups=tuple(read_groups)).keeps  # make-examples' rule

    for region in regions:
        seq = fasta.fetch(region.contig, region.start, region.end).upper()
        n = region.end - region.start
        if n <= 0:
            continue
        counts = np.zeros((4, n), dtype=np.int64)
        bam_contig = (bam_names or {}).get(region.contig, region.contig)
        if bam_contig in bam.references:
            counts = np.asarray(bam.count_coverage(
                bam_contig, region.start, region.end, quality_threshold=min_baseq, read_callback=counted,
            ), dtype=np.int64)
        depth = counts.sum(axis=0)
        base_index = np.array(["ACGT".find(b) for b in seq])
        ref_count = np.where(base_index >= 0, counts[np.maximum(base_index, 0), np.arange(n)], 0)
        gq, pl = reference_confidence(depth, ref_count)
        band = np.searchsorted(GVCF_GQ_BANDS, gq, side="right")
        mask = base_index >= 0
        for start, end in covered.get(region.contig, []):
            lo, hi = max(start - region.start, 0), min(end - region.start, n)
            if lo < hi:
                mask[lo:hi] = False
        i = 0
        while i < n:
            if not mask[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and mask[j + 1] and band[j + 1] == band[i]:
                j += 1
            k = i + int(np.argmin(gq[i : j + 1]))
            pos = region.start + i + 1
            fmt = f"0/0:{gq[k]}:{int(depth[i : j + 1].min())}:{','.join(map(str, pl[k]))}"
            lines.append((region.contig, pos, "\t".join([
                region.contig, str(pos), ".", seq[i], "<*>", "0", ".", f"END={region.start + j + 1}",
                "GT:GQ:MIN_DP:PL", fmt])))
            i = j + 1
    return lines


# --- the stage ----------------------------------------------------------------------------------------------------


def postprocess(sites: dict[str, np.ndarray], probs: np.ndarray, ref: str | Path, out: str | Path, *,
                sample: str | None = None, meta: dict | None = None, min_qual: float = 1.0,
                gvcf: str | Path | None = None, bam: str | Path | None = None, regions=None,
                bam_names: dict[str, str] | None = None, read_groups: tuple[str, ...] = (),
                what: str = "probabilities") -> dict:
    """Write the VCF (and gVCF when asked); return counts of records by FILTER."""
    from genoscreen.variants.regions import open_reference

    vcf.kind(out)
    if gvcf is not None:
        vcf.kind(gvcf)
        if bam is None or regions is None:
            raise InputError("--gvcf: reference blocks need the BAM and the regions (--bam and --regions/--bed, or "
                             "examples whose summary.json records them)")
    meta = meta or {}
    sample = sample or meta.get("sample") or "SAMPLE"
    fasta = open_reference(ref)
    contigs = list(zip(fasta.references, fasta.lengths))
    calls = sort_calls(merge_calls(sites, probs, min_qual), fasta.references, what)
    extra = [f"##genoscreenCommand={meta['command']}"] if meta.get("command") else []
    extra.append(f"##reference=file://{Path(ref).resolve()}")
    if meta.get("model"):
        extra.append(f"##genoscreen_model={meta['model']}")
    if meta.get("calibration"):
        extra.append(f"##genoscreen_calibration={meta['calibration']}")
    counts = {"records": len(calls)}
    for c in calls:
        counts[c.filter] = counts.get(c.filter, 0) + 1
    if gvcf is not None:
        # Everything that can fail on the inputs runs before either file is written; the gVCF is written first and
        # removed again if the VCF cannot be, so a failed run leaves neither.
        from genoscreen.variants.reads import open_alignments

        alignments = open_alignments(bam, ref)
        blocks = reference_blocks(alignments, fasta, regions, calls, bam_names, read_groups=tuple(read_groups))
        rank = {name: i for i, name in enumerate(fasta.references)}
        merged = [(rank[c.contig], c.pos, 0, _format_call(c, True)) for c in calls]
        merged += [(rank[contig], pos, 1, line) for contig, pos, line in blocks]
        merged.sort(key=lambda t: t[:3])
        vcf.write_vcf(gvcf, vcf_header(contigs, sample, True, extra, min_qual), (t[3] for t in merged))
        counts["gvcf_blocks"] = len(blocks)
    try:
        vcf.write_vcf(out, vcf_header(contigs, sample, False, extra, min_qual), (_format_call(c, False) for c in calls))
    except BaseException:
        if gvcf is not None:
            for leftover in vcf.output_paths(gvcf):
                leftover.unlink(missing_ok=True)
        raise
    log.info("postprocess: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts
