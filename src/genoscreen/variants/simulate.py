"""Simulated training reads: a real genome's variants put on two haplotypes, sequenced with ART, aligned with bwa.

For each window of the reference, the truth VCF's variants are applied to two haplotype sequences (phased
genotypes follow their phase; unphased hets go to a haplotype drawn from a seeded RNG; overlapping records on one
haplotype are skipped and counted). ART simulates 2 x L reads from both haplotypes at coverage/2 each, with a
quality/error profile learned by `art_profiler_illumina` from real reads (`profile_bam`); `bwa mem` aligns them to
the original reference, and samtools sorts and indexes the BAM. Beside the BAM: `<bam>.confident.bed` (the windows
minus `edge` bp at each end, intersected with the benchmark BED) for labelling with `make-examples`, and
`<bam>.json` describing the run.

Library and instrument diversity for training sets: ART's built-in profiles (`art_system`: HiSeq 2000/2500, HiSeq
X, MiSeq, NextSeq...) besides learned ones; `quality_binning="novaseq"` rewrites the simulated qualities into the
four levels of RTA3 binning (2, 12, 23, 37) after the errors are drawn, as the instrument does; `duplicate_fraction`
copies that share of read pairs unchanged (a PCR-duplicate-rich library whose duplicates are not marked).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open, atomic_path
from genoscreen.variants.regions import (ContigMap, Region, check_contigs, intersect_regions, open_reference,
                                         parse_regions, read_bed, reference_lengths)
from genoscreen.variants.tools import art, bwa, samtools

log = logging.getLogger(__name__)


@dataclasses.dataclass
class HaplotypeStats:
    applied: int = 0
    skipped_overlap: int = 0
    records: int = 0


def build_haplotypes(fasta, vcf_path: str | Path, window: Region, rng: np.random.Generator,
                     contig_map: ContigMap | None = None, sample: str | None = None) -> tuple[str, str, HaplotypeStats]:
    """The two haplotype sequences of `window` carrying the VCF's genotyped variants."""
    import pysam

    contig_map = contig_map or ContigMap()
    ref = fasta.fetch(window.contig, window.start, window.end).upper()
    vcf = pysam.VariantFile(str(vcf_path))
    sample = sample or list(vcf.header.samples)[0]
    vcf_contig = contig_map.inverse(window.contig, vcf.header.contigs)
    if vcf_contig is None:
        if vcf.header.contigs:
            check_contigs(list(vcf.header.contigs), fasta.references, str(vcf_path), "the reference", contig_map)
        vcf_contig = window.contig
    try:
        records = vcf.fetch(vcf_contig, window.start, window.end)
    except ValueError:
        records = (r for r in vcf if r.contig == vcf_contig and window.start <= r.start < window.end)
    pieces: list[list[str]] = [[], []]
    cursor = [window.start, window.start]
    stats = HaplotypeStats()
    for rec in records:
        if rec.start < window.start or rec.stop > window.end or rec.alts is None:
            continue
        gt = rec.samples[sample].get("GT")
        if not gt or len(gt) != 2 or None in gt or gt == (0, 0):
            continue
        stats.records += 1
        gt = list(gt)
        if not rec.samples[sample].phased and gt[0] != gt[1] and rng.random() < 0.5:
            gt.reverse()
        for h in (0, 1):
            if gt[h] == 0:
                continue
            alt = rec.alleles[gt[h]]
            if alt.startswith("<") or alt == "*":
                continue
            if rec.start < cursor[h]:
                stats.skipped_overlap += 1
                continue
            pieces[h].append(ref[cursor[h] - window.start: rec.start - window.start])
            pieces[h].append(alt.upper())
            cursor[h] = rec.stop
            stats.applied += 1
    haps = []
    for h in (0, 1):
        pieces[h].append(ref[cursor[h] - window.start:])
        haps.append("".join(pieces[h]))
    return haps[0], haps[1], stats


def artifact_haplotype(ref: str, rng: np.random.Generator, snv_every: int = 400,
                       indel_every: int = 4000) -> tuple[str, int]:
    """`ref` with random substitutions and 1-3 bp indels (non-truth sites for low-fraction negatives)."""
    seq = list(ref)
    n = len(seq)
    sites = 0
    for p in rng.choice(n, size=max(1, n // snv_every), replace=False):
        if seq[p] in "ACGT":
            seq[p] = "ACGT"[("ACGT".index(seq[p]) + int(rng.integers(1, 4))) % 4]
            sites += 1
    for p in sorted(rng.choice(n, size=max(1, n // indel_every), replace=False), reverse=True):
        k = int(rng.integers(1, 4))
        if rng.random() < 0.5:
            seq[p + 1: p + 1 + k] = []
        else:
            seq[p + 1: p + 1] = list("".join(rng.choice(list("ACGT"), size=k)))
        sites += 1
    return "".join(seq), sites


def learn_profile(profile_bam: str | Path, out_prefix: str | Path, threads: int = 1) -> tuple[Path, Path]:
    """ART quality profile (R1, R2 files) learned from a real BAM's read pairs; reused when already there."""
    out_prefix = Path(out_prefix)
    r1, r2 = Path(f"{out_prefix}R1.txt"), Path(f"{out_prefix}R2.txt")
    if r1.exists() and r2.exists():
        return r1, r2
    out_prefix.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_prefix.parent) as tmp:
        fq_dir = Path(tmp, "fq")
        fq_dir.mkdir()
        samtools.bam_to_fastq(profile_bam, fq_dir / "reads_1.fq", fq_dir / "reads_2.fq", threads)
        if (fq_dir / "reads_1.fq").stat().st_size == 0:
            raise InputError(f"{profile_bam}: no paired reads to learn an ART profile from")
        t1, t2 = art.learn_profile(fq_dir, Path(tmp, "profile"), threads)
        shutil.move(t1, r1)
        shutil.move(t2, r2)
    return r1, r2


def profile_read_length(profile: tuple[Path, Path]) -> int:
    """Longest read length an ART profile covers (its per-cycle lines)."""
    cycles = 0
    with open(profile[0]) as handle:
        for line in handle:
            fields = line.split("\t")
            if len(fields) > 2 and fields[0] in ("A", "C", "G", "T", "N", "."):
                try:
                    cycles = max(cycles, int(fields[1]) + 1)
                except ValueError:
                    pass
    return cycles


# Illumina RTA3 (NovaSeq) 4-level quality binning: 0-2 -> 2, 3-14 -> 12, 15-30 -> 23, 31+ -> 37 (phred+33 bytes)
_NOVASEQ_BINS = bytes(33 + (2 if q < 3 else 12 if q < 15 else 23 if q < 31 else 37) if q >= 0 else c
                      for c, q in ((c, c - 33) for c in range(256)))
QUALITY_BINNINGS = ("none", "novaseq")


def _rewrite_pairs(fq1: Path, fq2: Path, rng: np.random.Generator, quality_binning: str,
                   duplicate_fraction: float) -> dict:
    """Rewrite two FASTQs in place: bin qualities and/or append exact copies of a random share of the pairs."""
    table = _NOVASEQ_BINS if quality_binning == "novaseq" else None
    pairs = dups = 0
    out1, out2 = fq1.with_suffix(".rw.fq"), fq2.with_suffix(".rw.fq")
    with open(fq1, "rb") as a, open(fq2, "rb") as b, open(out1, "wb") as oa, open(out2, "wb") as ob:
        while True:
            r1 = [a.readline() for _ in range(4)]
            r2 = [b.readline() for _ in range(4)]
            if not r1[0] or not r2[0]:
                break
            if table is not None:
                r1[3], r2[3] = r1[3].translate(table), r2[3].translate(table)
            oa.writelines(r1)
            ob.writelines(r2)
            pairs += 1
            if duplicate_fraction > 0 and rng.random() < duplicate_fraction:
                dups += 1
                for rec, out in ((r1, oa), (r2, ob)):
                    name = rec[0].rstrip(b"\n").split(b"/")
                    name[0] += b"_dup"
                    out.writelines([b"/".join(name) + b"\n", *rec[1:]])
    out1.replace(fq1)
    out2.replace(fq2)
    return {"pairs": pairs, "duplicate_pairs": dups}


def simulate_reads(ref: str | Path, truth: str | Path, regions: str | Sequence[Region], out_bam: str | Path, *,
                   coverage: float = 30.0, profile_bam: str | Path | None = None, art_system: str | None = None,
                   quality_binning: str = "none", duplicate_fraction: float = 0.0, read_length: int | None = None,
                   fragment_mean: int = 400, fragment_sd: int = 50, benchmark_bed: str | Path | None = None,
                   seed: int = 0, threads: int = 1, workdir: str | Path | None = None, edge: int = 600,
                   contig_map: ContigMap | None = None, sample_name: str = "SIM",
                   artifact_fraction: float = 0.0) -> dict:
    """Simulate, align, sort and index reads of the truth's genome over `regions`; returns the run description.

    `profile_bam` (a learned error profile) and `art_system` (an ART built-in, e.g. HSXt) are exclusive.
    `coverage` counts duplicates: with `duplicate_fraction` f, ART simulates coverage / (1 + f).
    `artifact_fraction` > 0 adds reads (that share of the coverage) from a third, artifact haplotype: the reference
    with random substitutions (1 per 400 bp) and short indels (1 per 4 kb) that are not in the truth, so they
    become low-allele-fraction candidates labelled 0 — the non-variant sites that error-free simulation lacks.
    """
    for check in (samtools.binary, bwa.binary, art.illumina, art.profiler):
        check()
    contig_map = contig_map or ContigMap()
    out_bam = Path(out_bam)
    fasta = open_reference(ref)
    lengths = reference_lengths(fasta)
    windows = parse_regions(regions, lengths, contig_map) if isinstance(regions, str) else list(regions)
    workdir = (Path(workdir) if workdir else out_bam.parent / (out_bam.stem + ".work")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)

    if profile_bam is not None and art_system is not None:
        raise InputError("give either a profile BAM to learn an ART profile from or an ART built-in system, not both")
    if art_system is not None and art_system not in art.SYSTEMS:
        raise InputError(f"ART system {art_system!r}: unknown; choose one of {', '.join(art.SYSTEMS)}")
    if quality_binning not in QUALITY_BINNINGS:
        raise InputError(f"quality binning {quality_binning!r}: unknown; choose one of {', '.join(QUALITY_BINNINGS)}")
    if not 0 <= duplicate_fraction < 1:
        raise InputError(f"duplicate fraction {duplicate_fraction}: must be in [0, 1)")
    profile = None
    if art_system is not None:
        max_len = art.SYSTEMS[art_system]
        read_length = read_length or max_len
        if read_length > max_len:
            raise InputError(f"--read-length {read_length}: longer than ART's {art_system} profile covers ({max_len}); "
                             f"use --read-length <= {max_len} or another --art-system")
    if profile_bam is not None:
        profile = learn_profile(profile_bam, workdir / f"art_{Path(profile_bam).stem}", threads)
        max_len = profile_read_length(profile)
        read_length = read_length or min(150, max_len)
        if read_length > max_len:
            raise InputError(f"--read-length {read_length}: longer than the reads of {profile_bam} ({max_len} cycles) "
                             f"that the ART profile was learned from; use --read-length <= {max_len}")
    read_length = read_length or 150

    # the reference contigs used, as a plain FASTA indexed by bwa (cached in workdir)
    contigs = sorted({w.contig for w in windows})
    bwa_ref = workdir / ("ref." + "_".join(contigs) + ".fa")
    if not Path(str(bwa_ref) + ".bwt").exists():
        with atomic_open(bwa_ref) as handle:
            for c in contigs:
                seq = fasta.fetch(c)
                handle.write(f">{c}\n")
                for i in range(0, len(seq), 80):
                    handle.write(seq[i:i + 80] + "\n")
        bwa.index(bwa_ref)

    rng = np.random.default_rng(seed)
    stats = HaplotypeStats()
    haps_fa = workdir / f"{out_bam.stem}.haplotypes.fa"
    with atomic_open(haps_fa) as handle:
        for i, w in enumerate(windows):
            h1, h2, s = build_haplotypes(fasta, truth, w, rng, contig_map)
            stats.applied += s.applied
            stats.skipped_overlap += s.skipped_overlap
            stats.records += s.records
            for h, seq in ((1, h1), (2, h2)):
                handle.write(f">w{i}_{w.contig}_{w.start}_{w.end}_hap{h}\n{seq}\n")
    log.info("haplotypes: %d truth records, %d alleles applied, %d skipped (overlapping)", stats.records,
             stats.applied, stats.skipped_overlap)

    prefix = workdir / f"{out_bam.stem}.reads"
    sequenced = coverage / (1 + duplicate_fraction)
    fq1, fq2 = art.simulate_pairs(haps_fa, prefix, coverage=sequenced * (1 - artifact_fraction) / 2,
                                  read_length=read_length, fragment_mean=fragment_mean, fragment_sd=fragment_sd,
                                  seed=seed, profile=profile, system=art_system)
    artifact_sites = 0
    if artifact_fraction > 0:
        art_fa = workdir / f"{out_bam.stem}.artifacts.fa"
        with atomic_open(art_fa) as handle:
            for i, w in enumerate(windows):
                seq, n = artifact_haplotype(fasta.fetch(w.contig, w.start, w.end).upper(), rng)
                artifact_sites += n
                handle.write(f">w{i}_{w.contig}_{w.start}_{w.end}_artifacts\n{seq}\n")
        a1, a2 = art.simulate_pairs(art_fa, workdir / f"{out_bam.stem}.artreads", coverage=sequenced * artifact_fraction,
                                    read_length=read_length, fragment_mean=fragment_mean, fragment_sd=fragment_sd,
                                    seed=seed + 1, profile=profile, system=art_system)
        for main_fq, extra in ((fq1, a1), (fq2, a2)):
            with open(main_fq, "ab") as out, open(extra, "rb") as src:
                shutil.copyfileobj(src, out)
            extra.unlink()
    rewritten = {}
    if quality_binning != "none" or duplicate_fraction > 0:
        rewritten = _rewrite_pairs(fq1, fq2, rng, quality_binning, duplicate_fraction)
    with atomic_path(out_bam) as tmp_bam:
        aligner = bwa.mem(bwa_ref, fq1, fq2, f"@RG\\tID:{sample_name}\\tSM:{sample_name}\\tPL:ILLUMINA", threads)
        sorter = samtools.sort(aligner.stdout, tmp_bam, threads)
        aligner.stdout.close()
        _, sort_err = sorter.communicate()
        aligner.wait()
        if aligner.returncode or sorter.returncode:
            from genoscreen.variants.tools import ToolError

            raise ToolError(f"bwa mem | samtools sort failed: {sort_err.decode(errors='replace')[-300:]}")
    samtools.index(out_bam)
    for f in (fq1, fq2):
        f.unlink(missing_ok=True)

    inner = [Region(w.contig, w.start + edge, w.end - edge) for w in windows if len(w) > 2 * edge]
    confident = inner
    if benchmark_bed is not None:
        confident = intersect_regions(inner, read_bed(benchmark_bed, lengths, contig_map))
    bed_path = Path(f"{out_bam}.confident.bed")
    with atomic_open(bed_path) as handle:
        for r in confident:
            handle.write(f"{r.contig}\t{r.start}\t{r.end}\n")
    info = {
        "bam": str(out_bam), "reference": str(ref), "truth": str(truth), "windows": [str(w) for w in windows],
        "coverage": coverage, "read_length": read_length, "fragment_mean": fragment_mean, "fragment_sd": fragment_sd,
        "art_profile_from": str(profile_bam) if profile_bam else f"ART built-in {art_system or art.DEFAULT_SYSTEM}",
        "quality_binning": quality_binning, "duplicate_fraction": duplicate_fraction,
        "duplicate_pairs": rewritten.get("duplicate_pairs", 0), "seed": seed,
        "artifact_fraction": artifact_fraction, "artifact_sites": artifact_sites,
        "truth_records": stats.records, "alleles_applied": stats.applied, "skipped_overlapping": stats.skipped_overlap,
        "confident_bed": str(bed_path), "confident_bp": sum(len(r) for r in confident),
    }
    with atomic_open(Path(f"{out_bam}.json")) as handle:
        json.dump(info, handle, indent=2)
    return info
