"""Batch screening: every compound of a library against every target, in memory bounded by the tile.

Schedule. Each target is encoded once (or read from a panel) and projected through its half of the first dense
layer; each compound is encoded once, in fixed-size chunks, into a feature spill file (96 floats a compound, on
disk, not in RAM). Targets, sorted by id, are then taken in blocks; for each block the compounds stream through in
chunks, each chunk scored as tiles of Tc compounds × Tt targets (one or two fixed shapes, padding sliced off) by
`AffinityEngine.score_tile` (affinity/inference.py), and fed to a collector:

- `--top-k K`: `TopK` keeps the K best (score, compound) per target, merged chunk by chunk: memory K × targets,
  so one block holds every target and the library is read once.
- no `--top-k`: `FullRanking` keeps every score of the block's targets ([compounds × block] float32) and sorts
  each target's column at the end of the block. The block is as wide as `score_memory` bytes allow, so memory is
  bounded by that budget (not by compounds × targets) and rows are written directly in their final order
  (target-major), with no spill-and-merge pass. A library too big for one target per budget would need an
  external sort; at 4 bytes a score the default budget ranks 64M compounds per target.

What does grow with the library: its ids (and, while reading, the SMILES: the reader validates the whole file
before any work so duplicate ids fail first), about 1 KB a compound measured (bench/screen.py).

Ties rank by input order. Tiles are sharded over the compound axis across all local devices (jax.sharding);
the target tile and the model are replicated.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genoscreen.affinity.checkpoint import load_model, model_files
from genoscreen.affinity.inference import AffinityEngine, pad_rows, round_up
from genoscreen.affinity.io.compounds import DEFAULT_COLUMNS, Columns, read_compounds
from genoscreen.affinity.io.hits import HitWriter
from genoscreen.affinity.featurize import standardize_smiles
from genoscreen.affinity.io.proteins import read_targets
from genoscreen.affinity.io.shifts import shift_table, write_shifts
from genoscreen.affinity.io.truncations import truncation_path, truncations, write_truncations
from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_path, check_outputs
from genoscreen.common.logging import progress
from genoscreen.common.resources import find_model
from genoscreen.screening import panels
from genoscreen.common.devices import DeviceMesh
from genoscreen.screening.encoding import FeatureSpill, encode_compounds, encode_targets, put

log = logging.getLogger(__name__)

SCORE_MEMORY = 256 << 20  # bytes of scores a target block may hold (full ranking) or top-K state may use
TILE_ROWS = {"cpu": 4096}  # pairs per tile and per device; accelerators get DEFAULT_TILE_ROWS
DEFAULT_TILE_ROWS = 32768
TOPK_MERGE_CHUNKS = 8  # --top-k up to this many chunks is merged chunk by chunk (TopK), beyond it fully ranked


@dataclass
class ScreenSummary:
    """What a screen did; `str()` is the closing log line."""

    out: Path
    compounds: int
    invalid: int
    targets: int
    pairs: int
    rows: int
    seconds: float
    devices: int = 1
    truncated: int = 0
    errors_path: Path | None = None
    truncated_rows: list = field(default_factory=list)  # affinity.io.truncations rows (compounds)
    kept_scores: np.ndarray | None = None  # [n_compounds, len(keep)]: every score of the `keep` targets

    @property
    def pairs_per_second(self) -> float:
        return self.pairs / self.seconds if self.seconds > 0 else float("inf")

    def __str__(self) -> str:
        listed = f"; invalid compounds listed in {self.errors_path}" if self.invalid and self.errors_path else ""
        return (
            f"screened {self.compounds} compounds ({self.invalid} invalid, skipped) x {self.targets} targets = "
            f"{self.pairs} pairs in {self.seconds:.1f} s ({self.pairs_per_second:,.0f} pairs/s on {self.devices} "
            f"device(s)); wrote {self.rows} rows to {self.out}{listed}"
        )


# ----------------------------------------------------------------------------------------------------------------
# Collectors: turn score chunks [compounds, block targets] into each target's rows in rank order


class TopK:
    """The K best compounds per target, merged chunk by chunk (memory K × targets); ties rank by input order."""

    def __init__(self, n_targets: int, k: int):
        self.k = k
        self.scores = np.empty((n_targets, 0), np.float32)
        self.index = np.empty((n_targets, 0), np.int64)

    def add(self, start: int, scores: np.ndarray) -> None:
        n, n_targets = scores.shape
        cand_scores = np.concatenate([self.scores, scores.T], axis=1)
        cand_index = np.concatenate(
            [self.index, np.broadcast_to(np.arange(start, start + n, dtype=np.int64), (n_targets, n))], axis=1
        )
        # Stable on -score: the kept entries (earlier compounds) come first, so ties keep input order.
        order = np.argsort(-cand_scores, axis=1, kind="stable")[:, : self.k]
        self.scores = np.take_along_axis(cand_scores, order, axis=1)
        self.index = np.take_along_axis(cand_index, order, axis=1)

    def ranked(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        return self.index[j], self.scores[j]


class FullRanking:
    """Every score of a block of targets; each target's column is sorted when asked for."""

    def __init__(self, n_compounds: int, n_targets: int):
        self.scores = np.empty((n_compounds, n_targets), np.float32)

    def add(self, start: int, scores: np.ndarray) -> None:
        self.scores[start : start + len(scores)] = scores

    def ranked(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        column = self.scores[:, j]
        order = np.argsort(-column, kind="stable")
        return order, column[order]


class _Keeping:
    """A collector that also copies every score of some of its block's targets into `kept` (columns by target)."""

    def __init__(self, inner, columns: list[tuple[int, int]], kept: np.ndarray):
        self.inner, self.columns, self.kept = inner, columns, kept  # columns: (column in block, column in kept)

    def add(self, start: int, scores: np.ndarray) -> None:
        self.inner.add(start, scores)
        for j, k in self.columns:
            self.kept[start : start + len(scores), k] = scores[:, j]

    def ranked(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        return self.inner.ranked(j)


# ----------------------------------------------------------------------------------------------------------------
# Scoring


@dataclass(frozen=True)
class TileShape:
    """Tc compounds (a multiple of the device count) × Tt targets per tile; chunk = compounds per collector step."""

    compounds: int
    targets: int
    chunk: int

    @classmethod
    def choose(cls, n_targets: int, n_devices: int, rows_per_device: int) -> "TileShape":
        targets = 32 if n_targets > 8 else 8
        compounds = n_devices * max(1, rows_per_device // targets)
        return cls(compounds, targets, compounds * max(1, 2048 // compounds))


def default_tile_rows() -> int:
    import jax

    return TILE_ROWS.get(jax.default_backend(), DEFAULT_TILE_ROWS)


def score_blocks(sm, spill: FeatureSpill, a_targets: np.ndarray, devices: DeviceMesh, shape: TileShape,
                 make_collector, block_targets: int, bar=None):
    """Yield (block_start, collector) for consecutive blocks of `block_targets` targets, every compound scored."""
    n, n_targets = spill.n, len(a_targets)
    for t0 in range(0, n_targets, block_targets):
        block = a_targets[t0 : t0 + block_targets]
        padded = pad_rows(block, round_up(len(block), shape.targets))
        target_tiles = [put(padded[i : i + shape.targets], devices.replicated)
                        for i in range(0, len(padded), shape.targets)]
        collector = make_collector(len(block))
        in_flight = None
        for c0 in range(0, n, shape.chunk):
            c1 = min(n, c0 + shape.chunk)
            feats = pad_rows(spill.read(c0, c1), round_up(c1 - c0, shape.compounds))
            tiles = [[sm.score_tile(put(feats[i : i + shape.compounds], devices.split), a_t) for a_t in target_tiles]
                     for i in range(0, len(feats), shape.compounds)]
            if in_flight is not None:  # gather the previous chunk while this one computes
                _collect(collector, *in_flight, len(block), bar)
            in_flight = (c0, c1, tiles)
        if in_flight is not None:
            _collect(collector, *in_flight, len(block), bar)
        yield t0, collector


def _collect(collector, c0: int, c1: int, tiles, n_block: int, bar) -> None:
    scores = np.concatenate([np.concatenate([np.asarray(t) for t in row], axis=1) for row in tiles], axis=0)
    collector.add(c0, scores[: c1 - c0, :n_block])
    if bar is not None:
        bar.update((c1 - c0) * n_block)


def block_width(n_compounds: int, n_targets: int, top_k: int | None, tile_targets: int,
                score_memory: int = SCORE_MEMORY) -> int:
    """Targets per block: all of them for top-K (unless K × targets overflows the budget), else what fits."""
    # top-K: kept and candidate (score, index) pairs, plus a chunk's candidates; full: a float32 column.
    per_target = 24 * min(top_k, n_compounds) + 12 * 4096 if top_k else 4 * n_compounds
    fit = max(1, score_memory // max(1, per_target))
    if fit >= n_targets:
        return n_targets
    return fit // tile_targets * tile_targets if fit >= tile_targets else fit


# ----------------------------------------------------------------------------------------------------------------
# The command's library entry point


def screen_compounds(model, config, compound_ids: list[str], smiles: list[str], target_ids: list[str],
                     target_feats: np.ndarray, out: str | Path, *, top_k: int | None = None,
                     min_affinity: float | None = None, n_invalid: int = 0, tile: TileShape | None = None,
                     score_memory: int = SCORE_MEMORY, devices: DeviceMesh | None = None,
                     keep: list[int] | None = None) -> ScreenSummary:
    """Score every compound × target and write `out` (TSV, or Parquet for *.parquet) sorted by target then rank.

    `target_feats` are target-branch encodings [n_targets, 96] (from `encode_targets` or a panel). `tile`,
    `score_memory` and `devices` default to the shapes for this backend, `SCORE_MEMORY` and every local device.
    `keep`: indexes of targets whose every score (not only the top K) the summary returns as `kept_scores`.
    """

    if top_k is not None and top_k < 1:
        raise InputError(f"--top-k {top_k}: must be at least 1")
    start_time = time.perf_counter()
    out = Path(out)
    devices = devices or DeviceMesh.local()
    sm = AffinityEngine(model, devices.replicated)
    n, n_targets = len(compound_ids), len(target_ids)

    order = sorted(range(n_targets), key=lambda j: target_ids[j])
    sorted_ids = [target_ids[j] for j in order]
    a_targets = np.asarray(sm.project_targets(np.asarray(target_feats, np.float32)[order]), np.float32)

    out.parent.mkdir(parents=True, exist_ok=True)
    with progress(total=n, desc="encoding compounds", unit=" compounds") as bar:
        spill, truncated = encode_compounds(sm, config, smiles, devices, directory=out.parent, bar=bar)
    shape = tile or TileShape.choose(n_targets, devices.count, default_tile_rows())
    # A K far above the chunk size makes the per-chunk merge slow; rank fully and cut at K instead.
    merge_top_k = top_k if top_k is not None and top_k <= TOPK_MERGE_CHUNKS * shape.chunk else None
    width = block_width(n, n_targets, merge_top_k, shape.targets, score_memory)
    log.info("scoring %d compounds x %d targets in tiles of %d x %d on %d device(s), %d target(s) per block",
             n, n_targets, shape.compounds, shape.targets, devices.count, width)

    keep = list(keep or [])
    kept = np.zeros((n, len(keep)), np.float32) if keep else None
    position = {j: i for i, j in enumerate(order)}  # target index -> its place in the sorted order
    blocks_made = []

    def make_collector(n_block: int):
        inner = TopK(n_block, merge_top_k) if merge_top_k else FullRanking(n, n_block)
        if not keep:
            return inner
        t0 = len(blocks_made) * width
        blocks_made.append(t0)
        columns = [(position[j] - t0, k) for k, j in enumerate(keep) if t0 <= position[j] < t0 + n_block]
        return _Keeping(inner, columns, kept) if columns else inner

    ids = np.array(compound_ids, dtype=object)
    try:
        with HitWriter(out) as writer, progress(total=n * n_targets, desc="screening", unit=" pairs",
                                                unit_scale=True) as bar:
            for t0, collector in score_blocks(sm, spill, a_targets, devices, shape, make_collector, width, bar):
                for j in range(min(width, n_targets - t0)):
                    index, scores = collector.ranked(j)
                    if top_k is not None:
                        index, scores = index[:top_k], scores[:top_k]
                    if min_affinity is not None:
                        keep = int(np.count_nonzero(scores >= min_affinity))
                        index, scores = index[:keep], scores[:keep]
                    writer.write(ids[index], sorted_ids[t0 + j], scores, np.arange(1, len(index) + 1))
    finally:
        spill.close()
    summary = ScreenSummary(out, n + n_invalid, n_invalid, n_targets, n * n_targets, writer.rows,
                            time.perf_counter() - start_time, devices.count, len(truncated),
                            truncated_rows=truncations("compound", compound_ids,
                                                       {i: standardize_smiles(smiles[i]) for i in truncated},
                                                       truncated, config.max_drug_len),
                            kept_scores=kept)
    return summary


def screen(model_dir: str | Path, compounds: str | Path, out: str | Path, *, targets: str | Path | None = None,
           panel: str | None = None, top_k: int | None = None, min_affinity: float | None = None,
           allow_empty: bool = False, columns: Columns = DEFAULT_COLUMNS,
           mutants: str | Path | None = None) -> ScreenSummary:
    """`genoscreen screen`: read and check every input, then score; invalid compounds go to `<out>.errors.tsv`.
    `model_dir`: a model folder or a shipped model's name ('dta-davis'). `columns`: where the compound file keeps
    ids and SMILES (see `Columns`). Returns the summary; the hits table is the file `out` (summary.out).

    `mutants`: a FASTA of mutant targets (`GENE:p.Thr315Ile` from `genoscreen consequences`, or Davis' `ABL1(T315I)`)
    whose wild types (GENE) are among `targets`: they are screened too, and `<out>.shifts.tsv` gets every compound's
    predicted change from each wild type to its mutant (`affinity.io.shifts`).

    A compound file with no valid compound is an error, unless `allow_empty` (one chunk of a library in the
    workflow): then the hits table has only its header."""
    if (targets is None) == (panel is None):
        raise InputError("give exactly one of --targets T.fasta or --panel NAME")
    if mutants is not None and targets is None:
        raise InputError("--mutants needs the wild types as --targets T.fasta (a panel holds no sequences)")
    model_dir = find_model(model_dir)  # a folder, or a shipped model's name
    out = Path(out)
    errors_path = out.with_name(out.name + ".errors.tsv")
    truncated_path = truncation_path(out)
    shifts_path = Path(f"{out}.shifts.tsv") if mutants is not None else None
    check_outputs({"--out": out, "its errors file": errors_path, "its truncation table": truncated_path,
                   "its shift table": shifts_path},
                  {"--model": model_files(model_dir), "--compounds": compounds, "--targets": targets,
                   "--mutants": mutants})
    model, config = load_model(model_dir)
    shift_pairs: list[tuple[str, str]] = []
    if panel is not None:
        loaded = panels.load_panel(model_dir, panel, panels.weights_digest(model))
        target_ids, target_feats, sequences = loaded.target_ids, loaded.encodings, None
    else:
        records = read_targets(targets)
        if mutants is not None:
            shift_pairs = _mutant_pairs(read_targets(mutants, allow_empty=True), records, mutants, targets)
        target_ids, sequences = list(records), list(records.values())
    # The errors file and the truncation table replace an earlier run's only together with the hits they belong to.
    with atomic_path(errors_path) as errors_tmp, atomic_path(truncated_path) as truncated_tmp:
        # Duplicate ids fail here, before any work; invalid SMILES go to the errors file.
        compound_ids, smiles, n_invalid = read_compounds(compounds, errors_tmp, allow_empty, columns)
        if not compound_ids:
            with HitWriter(out):
                pass
            write_truncations(truncated_tmp, [], truncated_path)
            if shifts_path is not None:
                write_shifts(shifts_path, shift_table([], [], np.zeros((0, 0)), np.zeros((0, 0))))
            summary = ScreenSummary(out, n_invalid, n_invalid, len(target_ids), 0, 0, 0.0, errors_path=errors_path)
            log.warning("%s: no valid compound; wrote a hits table with no rows (--allow-empty)", compounds)
            return summary
        if sequences is not None:
            target_feats = encode_targets(model, config, sequences)
        row = {t: j for j, t in enumerate(target_ids)}
        keep = [row[w] for w, _ in shift_pairs] + [row[m] for _, m in shift_pairs]
        summary = screen_compounds(model, config, compound_ids, smiles, target_ids, target_feats, out, top_k=top_k,
                                   min_affinity=min_affinity, n_invalid=n_invalid, keep=keep)
        if mutants is not None:
            k = len(shift_pairs)
            kept = summary.kept_scores if k else np.zeros((len(compound_ids), 0), np.float32)
            write_shifts(shifts_path, shift_table(compound_ids, shift_pairs, kept[:, :k], kept[:, k:]))
            log.info("%d mutant(s) x %d compounds: predicted shifts from the wild types in %s", k,
                     len(compound_ids), shifts_path)
        long_targets = [i for i, seq in enumerate(sequences or []) if len(seq) > config.max_target_len]
        write_truncations(truncated_tmp, summary.truncated_rows
                          + truncations("target", target_ids, sequences, long_targets, config.max_target_len),
                          truncated_path)
    summary.errors_path = errors_path
    log.info("%s", summary)
    return summary


def _mutant_pairs(mutants: dict[str, str], records: dict[str, str], mutants_path, targets_path
                  ) -> list[tuple[str, str]]:
    """Add each mutant to `records` (the targets, in place) and return the (wild type, mutant) id pairs. Mutants
    of genes that are not among the targets are skipped, counted and named in a warning (a sample's variants in
    genes outside the panel)."""
    from genoscreen.affinity.mutants import gene_of

    pairs, outside = [], []
    for mutant_id, sequence in mutants.items():
        wild = gene_of(mutant_id)
        if wild is None:
            raise InputError(f"{mutants_path}: {mutant_id}: not a mutant name; name mutants GENE:p.Thr315Ile "
                             "(genoscreen consequences) or GENE(T315I)")
        if wild not in records:
            outside.append(mutant_id)
            continue
        if mutant_id in records:
            raise InputError(f"{mutants_path}: {mutant_id} is also a target of {targets_path}; give it once")
        records[mutant_id] = sequence
        pairs.append((wild, mutant_id))
    if outside:
        log.warning("%s: %d mutant(s) skipped, their wild type is not in %s: %s%s", mutants_path, len(outside),
                    targets_path, ", ".join(outside[:5]), "…" if len(outside) > 5 else "")
    return pairs
