"""Gather per-shard outputs into one file: VCFs (pysam only, no bcftools) and screening hits (exact top-K)."""

from __future__ import annotations

import csv
import heapq
import json
import logging
from pathlib import Path

from genoscreen.affinity.io.compounds import ERRORS_HEADER
from genoscreen.affinity.io.hits import read_hits
from genoscreen.caller import vcf
from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open

log = logging.getLogger(__name__)


def concat_vcfs(inputs: list[str | Path], out: str | Path) -> int:
    """Concatenate sorted shard VCFs (same samples, any order) into one sorted VCF, written as caller/vcf.py writes
    every VCF (.vcf.gz with its .tbi, .vcf, .bcf with its .csi).

    A streaming k-way merge by (contig order of the header, position): memory holds one record per shard, not the
    genome's. Exact duplicates at shard edges are dropped, so the result is valid even if two shards both emit a
    site on their border; an unsorted input is one error line. Returns the number of records.
    """
    import pysam

    if not inputs:
        raise InputError("concat-vcfs: no input VCFs")
    vcf.kind(out)
    files = [pysam.VariantFile(str(p)) for p in inputs]
    header = files[0].header.copy()
    samples = list(header.samples)
    for path, vf in zip(inputs, files):
        if list(vf.header.samples) != samples:
            raise InputError(f"{path}: samples {list(vf.header.samples)} differ from {inputs[0]}'s {samples}; gather shards of one sample only")
        for contig in vf.header.contigs.values():
            if contig.name not in header.contigs:
                header.contigs.add(contig.name, length=contig.length)
        for rec in vf.header.records:
            if rec.type in ("INFO", "FORMAT", "FILTER") and rec.get("ID") not in _ids(header, rec.type):
                header.add_record(rec)
    order = {name: i for i, name in enumerate(header.contigs)}

    def keyed(path, vf):
        """(sort key, record text) of one sorted input, checked as it streams."""
        previous = None
        for rec in vf:
            key = (order[rec.contig], rec.pos, rec.ref, rec.alts or ())
            if previous is not None and key < previous:
                raise InputError(f"{path}: record {rec.contig}:{rec.pos} comes after {header.contigs[previous[0]].name}"
                                 f":{previous[1]}; the shard VCFs must be sorted (bcftools sort)")
            previous = key
            yield key, str(rec)

    kept = 0

    def merged():
        """A k-way merge of the sorted shards: one record per shard in memory, whatever the genome's size."""
        nonlocal kept
        last = None
        for item in heapq.merge(*(keyed(p, vf) for p, vf in zip(inputs, files)), key=lambda kv: kv[0]):
            if item == last:  # the same record from two shards that share a border
                continue
            last = item
            kept += 1
            yield item[1].rstrip("\n")

    try:
        vcf.write_vcf(out, str(header).rstrip("\n").split("\n"), merged())
    finally:
        for vf in files:
            vf.close()
    log.info("%s: %d records from %d shards", out, kept, len(inputs))
    return kept


def _ids(header, kind: str) -> set:
    return set({"INFO": header.info, "FORMAT": header.formats, "FILTER": header.filters}[kind].keys())


def merge_hits(inputs: list[str | Path], out: str | Path, top_k: int | None = None, errors_out: str | Path | None = None,
               index: str | Path | None = None, truncated_out: str | Path | None = None) -> int:
    """Merge per-chunk hit tables into one: re-rank within each target, keep the top K, sort by target then rank.

    Each chunk kept its own top K, so the global top K is exact. Sorted as `genoscreen screen` sorts: by target_id,
    then rank; equal predictions keep chunk order.
    Per-chunk errors files (`<chunk>.errors.tsv`, when present) are concatenated into `errors_out`; with the
    `index` that `split_library` wrote (inputs in chunk order), their rows become rows of the library.
    Per-chunk truncation tables (`<chunk>.truncated.tsv`) are merged into `truncated_out` (each target once).
    """
    import pandas as pd

    offsets = _row_offsets(index, len(inputs)) if index is not None else None  # checked before any output
    hits = pd.concat([read_hits(path) for path in inputs], ignore_index=True)
    hits["_target"] = hits["target_id"]
    hits["_seq"] = range(len(hits))
    hits = hits.sort_values(["_target", "prediction", "_seq"], ascending=[True, False, True], kind="stable")
    hits["rank"] = hits.groupby("_target").cumcount() + 1
    if top_k:
        hits = hits[hits["rank"] <= top_k]
    hits = hits.drop(columns=["_target", "_seq"])
    with atomic_open(out) as handle:
        hits.to_csv(handle, sep="\t", index=False, float_format="%.6f")
    if errors_out is not None:
        _merge_errors(inputs, errors_out, offsets)
    if truncated_out is not None:
        _merge_truncations(inputs, truncated_out)
    return len(hits)


def _merge_truncations(inputs: list[str | Path], out: str | Path) -> None:
    """The chunks' truncation tables as one: compounds in chunk order, each target once (every chunk lists it)."""
    from genoscreen.affinity.io.truncations import TRUNCATION_HEADER, truncation_path, write_truncations

    rows: dict[tuple, None] = {}
    for path in inputs:
        table = truncation_path(path)
        if table.exists():
            with open(table, newline="") as handle:
                reader = csv.reader(handle, delimiter="\t")
                if next(reader, None) != list(TRUNCATION_HEADER):
                    raise InputError(f"{table}: not a truncation table of `genoscreen screen`; re-run the screen")
                rows.update(dict.fromkeys((kind, ident, int(n), int(m)) for kind, ident, n, m in reader))
    write_truncations(out, list(rows))


def _row_offsets(index: str | Path, n_inputs: int) -> list[int]:
    try:
        offsets = json.loads(Path(index).read_text())["row_offset"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(f"{index}: not a chunk index of `genoscreen split-compounds --index` ({err})") from None
    if len(offsets) != n_inputs:
        raise InputError(f"{index}: lists {len(offsets)} chunks but {n_inputs} hits tables were given; pass the "
                         "chunks' hits tables in chunk order")
    return offsets


def _merge_errors(inputs: list[str | Path], errors_out: str | Path, row_offsets: list[int] | None = None) -> None:
    rows, header = [], None
    for k, path in enumerate(inputs):
        err = Path(f"{path}.errors.tsv")
        if not err.exists():
            err = Path(str(path).removesuffix(".tsv") + ".errors.tsv")
        if not err.exists():
            continue
        with open(err, newline="") as handle:
            reader = csv.reader(handle, delimiter="\t")
            file_header = next(reader, None)
            if file_header is None:
                continue
            header = header or ["chunk", *file_header]
            shift = row_offsets[k] if row_offsets is not None else 0
            rows += [[Path(path).name.split(".")[0], str(int(row[0]) + shift) if row[0].isdigit() else row[0], *row[1:]]
                     for row in reader if row]
    with atomic_open(errors_out) as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(header or ["chunk", *ERRORS_HEADER])
        writer.writerows(rows)
