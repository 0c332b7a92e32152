"""`genoscreen call`: make-examples -> call-variants -> postprocess in one process, with no files in between.

Examples stream from make-examples (worker processes when threads > 1) straight into the model; only the site
fields and probabilities are kept, so memory stays small on whole chromosomes.

Reading starts before JAX is imported: the plan needs only the model's pileup_config.json, and the forward pass
(JAX, the export, the weights) is loaded once the first examples are made, while make-examples' worker processes
go on reading (threads > 1).
"""

from __future__ import annotations

import itertools
import logging
import time
from pathlib import Path

import numpy as np


log = logging.getLogger(__name__)

DEFAULT_MODEL = "caller-wgs-illumina"  # a shipped model's name (genoscreen.common.resources)


def default_model_dir() -> Path:
    """The shipped caller model, from the installed package or the checkout (genoscreen.common.resources)."""
    from genoscreen.common.resources import model_dir

    return model_dir(DEFAULT_MODEL)


def call(bam: str | Path, ref: str | Path, out: str | Path, *, regions: str | None = None,
         bed: str | Path | None = None, model_dir: str | Path | None = None, threads: int = 1,
         sample: str | None = None, gvcf: str | Path | None = None, contig_map: str | None = None,
         min_qual: float = 1.0, command: str | None = None) -> dict:
    """Call variants on `bam` over `regions`/`bed` (default: every contig with reads); return a summary dict."""
    from genoscreen.caller.call_variants import concat_sites, predict_stream
    from genoscreen.caller.model_dir import read_model_info
    from genoscreen.caller.predictor import load_predictor
    from genoscreen.common.logging import process_seconds
    from genoscreen.caller import vcf
    from genoscreen.caller.postprocess import postprocess
    from genoscreen.variants.make_examples import plan, planned_examples
    from genoscreen.variants.regions import merge_regions

    t0 = time.perf_counter()
    for path in (out, gvcf) if gvcf is not None else (out,):
        vcf.kind(path)  # before the calling work, not after it
    model_dir = Path(model_dir) if model_dir else default_model_dir()
    _, _, pileup = read_model_info(model_dir)  # the pileup's shape: no JAX needed to start reading
    work = plan(bam, ref, regions, bed, config=pileup, contig_map=contig_map, sample=sample)  # once
    log.debug("reading reads %.2f s after the process started", process_seconds())
    stream = planned_examples(work, threads)
    first = next(stream, None)
    predictor = load_predictor(model_dir)
    sites, probs = [], []
    for fields, p in predict_stream(predictor, itertools.chain([first] if first is not None else [], stream)):
        sites.append(fields)
        probs.append(p)
    merged = concat_sites(sites)
    probs_arr = np.concatenate(probs) if probs else np.zeros((0, 3), np.float32)
    covered = merge_regions(work.shards) if gvcf is not None else None
    meta = {**predictor.provenance(), **({"command": command} if command else {})}
    counts = postprocess(merged, probs_arr, ref, out, sample=work.sample, meta=meta,
                         min_qual=min_qual, gvcf=gvcf, bam=bam, regions=covered, bam_names=work.bam_names,
                         read_groups=work.filters.read_groups, what=str(bam))
    counts["examples"] = int(len(probs_arr))
    counts["wall_s"] = round(time.perf_counter() - t0, 2)
    log.info("call: %d examples -> %s in %.1f s", len(probs_arr), out, counts["wall_s"])
    return counts
