"""make_examples: aligned reads -> candidate sites -> pileup tensors (labelled when truth is given).

`iter_examples` yields the examples of each region shard in memory (for the one-shot `genoscreen call`);
`make_examples` writes them into an examples folder (see `examples.py`) with `summary.json`. Work is split into
region shards of `shard_size` bp, run in `threads` worker processes; output order does not depend on `threads`.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import shutil
import time
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_path
from genoscreen.common.logging import progress
from genoscreen.variants import examples as ex
from genoscreen.variants.candidates import (CandidateThresholds, ReadFilters, alt_subsets, collect_reads,
                                            find_candidates)
from genoscreen.variants.labels import Truth, genotype_label
from genoscreen.variants.normalize import RefSeq
from genoscreen.variants.pileup import build_tensor, check_channels, ref_window_codes, select_reads
from genoscreen.variants.pileup_config import PileupConfig
from genoscreen.variants.reads import open_alignments, sample_read_groups
from genoscreen.variants.realign import RealignOptions
from genoscreen.variants.regions import (ContigMap, Region, intersect_regions, merge_regions, open_reference,
                                         parse_regions, read_bed, reference_lengths, shard_regions,
                                         suggest_contig_map)

log = logging.getLogger(__name__)

DEFAULT_SHARD_SIZE = 100_000


@dataclasses.dataclass
class Plan:
    """Everything a worker needs to process shards (picklable: paths and small objects only)."""

    bam: str
    ref: str
    bam_names: dict[str, str]  # reference contig -> BAM contig
    config: PileupConfig
    filters: ReadFilters
    thresholds: CandidateThresholds
    truth: Truth | None
    shards: list[Region]
    realign: RealignOptions = RealignOptions()
    sample: str | None = None  # the read groups' SM (None: none, or several)


def plan(bam: str | Path, ref: str | Path, regions: str | Sequence[Region] | None = None,
         bed: str | Path | None = None, truth: str | Path | None = None, confident_bed: str | Path | None = None,
         config: PileupConfig = PileupConfig(), contig_map: ContigMap | str | None = None,
         shard_size: int = DEFAULT_SHARD_SIZE, filters: ReadFilters = ReadFilters(),
         thresholds: CandidateThresholds = CandidateThresholds(), realign: RealignOptions = RealignOptions(),
         sample: str | None = None) -> Plan:
    """Check all inputs up front (contig names, regions, index) and cut the work into shards. `sample` keeps only
    that sample's read groups (a multi-sample BAM); without it, a BAM whose read groups name several samples is
    refused rather than pooled."""
    check_channels(config)
    if not isinstance(contig_map, ContigMap):
        contig_map = ContigMap.parse(contig_map)
    fasta = open_reference(ref)
    lengths = reference_lengths(fasta)
    alignments = open_alignments(bam, ref)
    bam_lengths = dict(zip(alignments.references, alignments.lengths))

    if regions is None and bed is None:
        try:
            with_reads = [s.contig for s in alignments.get_index_statistics() if s.mapped > 0]
        except ValueError:
            with_reads = list(bam_lengths)
        if not with_reads and alignments.is_cram:  # a .crai counts no reads per contig: every contig it names
            with_reads = list(bam_lengths)
        work = [Region(contig_map(c), 0, lengths[contig_map(c)]) for c in with_reads if contig_map(c) in lengths]
        if with_reads and not work:
            _contig_error(bam, with_reads, ref, list(lengths))
    else:
        work = []
        if regions is not None:
            work = parse_regions(regions, lengths, contig_map) if isinstance(regions, str) else list(regions)
        if bed is not None:
            bed_regions = read_bed(bed, lengths, contig_map)
            work = intersect_regions(work, bed_regions) if regions is not None else bed_regions
        if not work:
            given = [f"--regions {regions}" if isinstance(regions, str) else "--regions"] if regions is not None else []
            given += [f"--bed {bed}"] if bed is not None else []
            raise InputError(f"{' and '.join(given)}: no region to call (the BED is empty or the regions and the BED do not "
                             "overlap); check the contig names and coordinates")
    bam_names = {}
    for contig in sorted({r.contig for r in work}):
        name = contig_map.inverse(contig, bam_lengths)
        if name is None:
            _missing_contig_error(bam, list(bam_lengths), ref, contig)
        if bam_lengths[name] != lengths[contig]:
            raise InputError(
                f"{bam}: contig {name} has length {bam_lengths[name]:,} but the reference's {contig} has "
                f"{lengths[contig]:,}; the reads were aligned to another assembly than {ref}"
            )
        bam_names[contig] = name
    groups = alignments.header.to_dict().get("RG", [])
    alignments.close()
    rg_samples = {rg.get("SM") for rg in groups if rg.get("SM")}
    if len(rg_samples) > 1:
        if sample is None:
            raise InputError(f"{bam}: its read groups name several samples; pass --sample NAME to call one of them "
                             "(their reads are not pooled)")
        filters = dataclasses.replace(filters, read_groups=sample_read_groups(groups, sample, bam))
    else:  # one sample (or none named): --sample only names it
        sample = sample or next(iter(rg_samples), None)
    truth_obj = None
    if truth is not None:
        conf = read_bed(confident_bed, lengths, contig_map) if confident_bed is not None else None
        truth_obj = Truth.load(truth, fasta, work, conf, contig_map)
    elif confident_bed is not None:
        raise InputError("--confident-bed is only used with --truth; pass the truth VCF too")
    return Plan(str(bam), str(ref), bam_names, config, filters, thresholds, truth_obj,
                shard_regions(work, shard_size), realign, sample)


def _contig_error(bam, bam_names: list[str], ref, ref_names: list[str]) -> None:
    shown_bam = ", ".join(bam_names[:4]) + (", ..." if len(bam_names) > 4 else "")
    shown_ref = ", ".join(ref_names[:4]) + (", ..." if len(ref_names) > 4 else "")
    raise InputError(
        f"{bam}: contigs ({shown_bam}) do not match the reference {ref} ({shown_ref}); if they are the same "
        f"sequences under another naming, pass --contig-map {suggest_contig_map(bam_names, ref_names)}"
    )


def _missing_contig_error(bam, bam_names: list[str], ref, contig: str) -> None:
    """A region's reference contig the BAM lacks: another naming (suggest --contig-map), or really absent."""
    if suggest_contig_map(bam_names, [contig]) != suggest_contig_map([], []):
        _contig_error(bam, bam_names, ref, [contig])
    shown_bam = ", ".join(bam_names[:4]) + (", ..." if len(bam_names) > 4 else "")
    raise InputError(
        f"{bam}: has no contig {contig} (it names {shown_bam}), though the reference {ref} has it; the reads were not "
        f"aligned to it: leave {contig} out of --regions/--bed (if the BAM names it differently, pass "
        f"--contig-map BAMNAME={contig})"
    )


class ShardWorker:
    """Processes the shards of one plan with its own open BAM and reference (`worker(region)`).

    One per process: `_run` makes one in-process, or one per spawned worker process through `_start_worker`.
    """

    def __init__(self, p: Plan):
        self.plan = p
        self.bam = open_alignments(p.bam, p.ref, index=False)
        self.refseq = RefSeq(open_reference(p.ref))

    def close(self) -> None:
        try:
            self.bam.close()
        except OSError:  # htslib reports a failed read again on close; the read's own error is the one to show
            pass

    def __call__(self, region: Region) -> tuple[dict[str, np.ndarray], list[tuple], int]:
        p, refseq = self.plan, self.refseq
        rows = collect_reads(self.bam, p.bam_names[region.contig], region, refseq, p.filters, bam_path=p.bam,
                             realign=p.realign)
        if rows.n == 0:
            return ex.empty_arrays(p.config), [], 0
        cands = find_candidates(rows, region, refseq, p.filters, p.thresholds)
        matched: set[tuple] = set()  # truth alleles some candidate explains (by key or haplotype)
        copies: list[tuple[int, ...] | None] = [None] * len(cands)
        if p.truth is not None:
            copies = p.truth.label_candidates(cands, refseq, matched)  # nearby candidates labelled together
            keep = [i for i, c in enumerate(cands) if p.truth.is_confident(c)]
            cands, copies = [cands[i] for i in keep], [copies[i] for i in keep]
        if not cands:
            return ex.empty_arrays(p.config), sorted(matched), 0
        return _tensors(p, refseq, region, rows, cands, copies), sorted(matched), len(cands)


# A spawned pool process's worker: multiprocessing's initializer can hand a process its state only through a
# module global. Set in worker processes only (`_start_worker`); the parent process never reads or writes it.
_PROCESS_WORKER: ShardWorker | None = None


def _start_worker(p: Plan) -> None:
    global _PROCESS_WORKER
    _PROCESS_WORKER = ShardWorker(p)


def _work_in_process(region: Region) -> tuple[dict[str, np.ndarray], list[tuple], int]:
    return _PROCESS_WORKER(region)


def _tensors(p: Plan, refseq: RefSeq, region: Region, rows, cands: list, copies: list) -> dict[str, np.ndarray]:
    """The examples arrays of a shard's candidates (one tensor per candidate and alt subset)."""
    W = p.config.width
    ref_str = refseq.fetch(region.contig, region.start - W, region.end + W)
    offset = max(0, region.start - W)
    tensors, labels, pos, refs, alts, idxs, depths, ads = [], [], [], [], [], [], [], []
    for c, cp in zip(cands, copies):
        reads = select_reads(rows, c.contig, c.pos, p.config.max_reads, np.concatenate(c.supporters))
        window = ref_window_codes(ref_str, offset, c.pos, W)
        alt_str = ",".join(c.alts)
        ad = ",".join(map(str, c.allele_counts))
        for subset in alt_subsets(len(c.alts)):
            tensors.append(build_tensor(rows, window, c, subset, p.config, reads))
            labels.append(genotype_label(cp, subset) if cp is not None else -1)
            pos.append(c.pos + 1)
            refs.append(c.ref)
            alts.append(alt_str)
            idxs.append(",".join(map(str, subset)))
            depths.append(c.depth)
            ads.append(ad)
    n = len(labels)
    arrays = {
        "tensors": np.stack(tensors).astype(np.uint8, copy=False),
        "label": np.asarray(labels, dtype=np.int8),
        "contig": np.asarray([region.contig] * n, dtype=str),
        "pos": np.asarray(pos, dtype=np.int64),
        "ref": np.asarray(refs, dtype=str),
        "alts": np.asarray(alts, dtype=str),
        "alt_indices": np.asarray(idxs, dtype=str),
        "depth": np.asarray(depths, dtype=np.int32),
        "allele_depths": np.asarray(ads, dtype=str),
    }
    return arrays


def _run(p: Plan, threads: int) -> Iterator[tuple[dict[str, np.ndarray], list[tuple], int]]:
    """Process the plan's shards in order, in-process or in `threads` spawned workers."""
    bar = progress(total=len(p.shards), desc="make-examples", unit="shard")
    try:
        if threads <= 1 or len(p.shards) <= 1:
            worker = ShardWorker(p)
            try:
                for region in p.shards:
                    yield worker(region)
                    bar.update()
            finally:
                worker.close()
        else:
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(threads, initializer=_start_worker, initargs=(p,)) as pool:
                for result in pool.imap(_work_in_process, p.shards, chunksize=1):
                    yield result
                    bar.update()
    finally:
        bar.close()


def iter_examples(bam: str | Path, ref: str | Path, regions: str | Sequence[Region] | None = None,
                  config: PileupConfig = PileupConfig(), *, bed=None, truth=None, confident_bed=None,
                  threads: int = 1, contig_map: ContigMap | str | None = None,
                  shard_size: int = DEFAULT_SHARD_SIZE, filters: ReadFilters = ReadFilters(),
                  thresholds: CandidateThresholds = CandidateThresholds(),
                  realign: RealignOptions = RealignOptions(),
                  sample: str | None = None) -> Iterator[dict[str, np.ndarray]]:
    """Yield the examples of each region shard (dicts as in an examples shard, see `examples.FIELDS`) in memory."""
    p = plan(bam, ref, regions, bed, truth, confident_bed, config, contig_map, shard_size, filters, thresholds,
             realign, sample)
    yield from planned_examples(p, threads)


def planned_examples(p: Plan, threads: int = 1) -> Iterator[dict[str, np.ndarray]]:
    """The examples of a `plan()` already made (its regions, contig names and sample serve the caller too)."""
    for arrays, _, _ in _run(p, threads):
        if len(arrays["label"]):
            yield arrays


def make_examples(bam: str | Path, ref: str | Path, out_dir: str | Path, regions: str | Sequence[Region] | None = None,
                  bed: str | Path | None = None, truth: str | Path | None = None,
                  confident_bed: str | Path | None = None, threads: int = 1,
                  config: PileupConfig = PileupConfig(), contig_map: ContigMap | str | None = None,
                  shard_size: int = DEFAULT_SHARD_SIZE, filters: ReadFilters = ReadFilters(),
                  thresholds: CandidateThresholds = CandidateThresholds(),
                  examples_per_file: int = 4000, realign: RealignOptions = RealignOptions(),
                  sample: str | None = None) -> dict:
    """Write an examples folder `out_dir` (config, shards, summary.json) and return the summary.

    The folder is built under a temporary name and renamed at the end, so an interrupted run leaves nothing.
    """
    t0 = time.perf_counter()
    p = plan(bam, ref, regions, bed, truth, confident_bed, config, contig_map, shard_size, filters, thresholds,
             realign, sample)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is a file; --out must be a folder")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / ex.SUMMARY_FILENAME).exists() and not list(out_dir.glob(ex.SHARD_GLOB)):
            raise InputError(f"{out_dir}: exists and is not an examples folder; choose another --out")
    matched: set[tuple] = set()
    n_candidates = 0
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        config.write(tmp)
        writer = ex.ShardWriter(tmp, config, examples_per_file)
        for arrays, keys, n_cand in _run(p, threads):
            writer.add(arrays)
            matched.update(keys)
            n_candidates += n_cand
        writer.flush()
        summary = {
            "sample": p.sample,  # the VCF's sample name for a later `postprocess`
            # what a later `postprocess --gvcf` needs without re-planning: the reads, the regions called (reference
            # names) and the reference -> BAM contig names
            "bam": str(Path(bam).resolve()),
            "reference": str(Path(ref).resolve()),
            "regions": [str(r) for r in merge_regions(p.shards)],
            "bam_names": p.bam_names,
            "read_groups": list(p.filters.read_groups),  # the sample's reads in a multi-sample BAM ([] = all)
            "candidates": n_candidates,
            "examples": writer.written,
            "truth": p.truth.counts() if p.truth else {"SNP": 0, "INDEL": 0},
            "truth_without_candidate": p.truth.without_candidate(matched) if p.truth else {"SNP": 0, "INDEL": 0},
        }
        ex.write_summary(tmp, summary)
        if out_dir.exists():
            shutil.rmtree(out_dir)
    log.info("make-examples: %d candidates, %d examples in %d shard file(s) in %.1f s -> %s", n_candidates,
             writer.written, writer.index, time.perf_counter() - t0, out_dir)
    return summary
