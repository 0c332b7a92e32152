"""Genomic regions: parse `--regions` / `--bed`, cut them into shards, and reconcile contig names.

Coordinates are 0-based half-open inside the library (`Region(contig, start, end)`), 1-based inclusive in text
(`chr20:10001-10500`), as samtools writes them. The reference's contig names are the canonical namespace: BAM,
truth VCF, BED and regions are mapped onto them with an explicit `--contig-map` when they differ.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Iterable, Mapping

from genoscreen.common.errors import InputError
from genoscreen.common.io import open_text
from genoscreen.variants.reads import index_fix

_REGION_RE = re.compile(r"^(?P<contig>[^:\s]+)(?::(?P<start>[\d_]+)(?:-(?P<end>[\d_]+))?)?$")


@dataclasses.dataclass(frozen=True, order=True)
class Region:
    """A 0-based half-open interval on one contig."""

    contig: str
    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:
        return f"{self.contig}:{self.start + 1}-{self.end}"

    def contains(self, pos: int) -> bool:
        return self.start <= pos < self.end


def reference_lengths(ref) -> dict[str, int]:
    """{contig: length} of a pysam.FastaFile (or a path to one)."""
    import pysam

    if not isinstance(ref, pysam.FastaFile):
        ref = open_reference(ref)
    return dict(zip(ref.references, ref.lengths))


def open_reference(path: str | Path):
    """Open a plain or bgzipped FASTA with its `.fai` (and `.gzi`), refusing clearly when it cannot be read."""
    import pysam

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: reference FASTA not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: reference FASTA is empty")
    indexes = [Path(f"{path}.fai")] + ([Path(f"{path}.gzi")] if path.suffix in (".gz", ".bgz") else [])
    if not all(i.exists() for i in indexes) and not os.access(path.parent, os.W_OK):
        raise InputError(f"{path}: reference FASTA has no .fai index and {index_fix(path, 'samtools faidx')}")
    try:
        return pysam.FastaFile(str(path))
    except (OSError, ValueError) as err:
        raise InputError(
            f"{path}: cannot open the reference FASTA ({err}); it must be plain or bgzip-compressed "
            f"(not plain gzip) with a .fai index: {index_fix(path, 'samtools faidx')}"
        ) from None


class ContigMap:
    """Explicit renaming of contigs from a BAM / VCF / BED / region naming onto the reference's naming.

    Built from `--contig-map 20=chr20,21=chr21` or a two-column file (`20<TAB>chr20`). Names not in the map pass
    through unchanged.
    """

    def __init__(self, mapping: Mapping[str, str] | None = None):
        self.to_ref = dict(mapping or {})
        self.from_ref = {v: k for k, v in self.to_ref.items()}

    @classmethod
    def parse(cls, spec: str | None) -> "ContigMap":
        if not spec:
            return cls()
        pairs: list[tuple[str, str]] = []
        if Path(spec).is_file():
            with open_text(spec) as handle:
                for n, line in enumerate(handle, 1):
                    fields = line.split()
                    if not fields or fields[0].startswith("#"):
                        continue
                    if len(fields) != 2:
                        raise InputError(f"{spec}: line {n}: expected two columns 'other_name ref_name'")
                    pairs.append((fields[0], fields[1]))
        else:
            for item in spec.split(","):
                if item.count("=") != 1 or not all(item.split("=")):
                    raise InputError(f"--contig-map: {item!r}: expected NAME=REFNAME pairs, e.g. 20=chr20,21=chr21")
                a, b = item.split("=")
                pairs.append((a.strip(), b.strip()))
        return cls(dict(pairs))

    def __call__(self, name: str) -> str:
        return self.to_ref.get(name, name)

    def inverse(self, ref_name: str, available: Iterable[str]) -> str | None:
        """The name a file uses for reference contig `ref_name`, given the names that file has."""
        available = set(available)
        if ref_name in self.from_ref and self.from_ref[ref_name] in available:
            return self.from_ref[ref_name]
        if ref_name in available:
            return ref_name
        return None

    def __bool__(self) -> bool:
        return bool(self.to_ref)


def suggest_contig_map(names: Iterable[str], ref_names: Iterable[str]) -> str:
    """A `--contig-map` suggestion pairing 'chr20' <-> '20' style names."""
    ref_names = set(ref_names)
    pairs = []
    for name in names:
        for cand in (f"chr{name}", name[3:] if name.startswith("chr") else None, "chrM" if name == "MT" else None,
                     "MT" if name == "chrM" else None):
            if cand and cand in ref_names:
                pairs.append(f"{name}={cand}")
                break
    return ",".join(pairs[:4]) if pairs else "OTHER=REFNAME"


def check_contigs(names: Iterable[str], ref_names: Iterable[str], what: str, ref_what: str,
                  contig_map: ContigMap | None = None) -> None:
    """Raise InputError when contigs used by `what` are absent from the reference (after `contig_map`)."""
    contig_map = contig_map or ContigMap()
    ref_names = list(ref_names)
    ref_set = set(ref_names)
    missing = sorted({n for n in names if contig_map(n) not in ref_set})
    if missing:
        shown_ref = ", ".join(ref_names[:5]) + (", ..." if len(ref_names) > 5 else "")
        raise InputError(
            f"{what}: contig name(s) {', '.join(missing[:5])} are not in {ref_what} (which names {shown_ref}); "
            f"if they are the same sequences under another naming, pass --contig-map {suggest_contig_map(missing, ref_names)}"
        )


def _parse_int(text: str, spec: str) -> int:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise InputError(f"--regions: {spec!r}: {text!r} is not a position") from None


def parse_regions(spec: str, ref_lengths: Mapping[str, int], contig_map: ContigMap | None = None) -> list[Region]:
    """Parse `chr20:10000001-10045000,chr21` (1-based inclusive, like samtools) against the reference.

    A region on a contig the reference lacks, or past the contig's end, is refused with the fix.
    """
    contig_map = contig_map or ContigMap()
    regions = []
    for item in [s.strip() for s in spec.split(",") if s.strip()]:
        m = _REGION_RE.match(item)
        if not m:
            raise InputError(f"--regions: {item!r}: expected CONTIG, CONTIG:START-END or CONTIG:START (1-based; "
                             f"regions are comma-separated, so write positions without thousands separators)")
        contig = m["contig"]
        check_contigs([contig], ref_lengths, f"--regions {item}", "the reference", contig_map)
        contig = contig_map(contig)
        length = ref_lengths[contig]
        start = _parse_int(m["start"], item) - 1 if m["start"] else 0
        end = _parse_int(m["end"], item) if m["end"] else length
        if start < 0 or end <= start:
            raise InputError(f"--regions: {item!r}: start must be >= 1 and end > start")
        if end > length or start >= length:
            raise InputError(
                f"--regions: {item!r}: past the end of {contig} (length {length:,} in the reference); "
                f"use an end <= {length}"
            )
        regions.append(Region(contig, start, end))
    if not regions:
        raise InputError(f"--regions: {spec!r}: no region given")
    return merge_regions(regions)


def read_bed(path: str | Path, ref_lengths: Mapping[str, int] | None = None,
             contig_map: ContigMap | None = None) -> list[Region]:
    """Read a BED file (plain or gzipped) into merged Regions, checked against the reference when given."""
    contig_map = contig_map or ContigMap()
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: BED file not found")
    regions = []
    bad: list[str] = []  # the first few bad lines' messages
    n_bad = 0
    with open_text(path) as handle:
        for n, line in enumerate(handle, 1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            try:
                region = _bed_line(line, n, ref_lengths, contig_map)
            except InputError as err:
                n_bad += 1
                if len(bad) < _BED_ERRORS_SHOWN:
                    bad.append(str(err))
                continue
            if region is not None:
                regions.append(region)
    if n_bad == 1:
        raise InputError(f"{path}: {bad[0]}")
    if n_bad:
        more = f"; and {n_bad - len(bad)} more" if n_bad > len(bad) else ""
        raise InputError(f"{path}: {n_bad} bad lines, first: {'; '.join(bad)}{more}")
    return merge_regions(regions)


_BED_ERRORS_SHOWN = 3


def _bed_line(line: str, n: int, ref_lengths: Mapping[str, int] | None, contig_map: ContigMap) -> Region | None:
    """The Region of BED line `n` (None when empty); an InputError 'line N: ...' when it is bad."""
    fields = line.rstrip("\n").split("\t")
    if len(fields) < 3:
        fields = line.split()
    try:
        contig, start, end = fields[0], int(fields[1]), int(fields[2])
    except (ValueError, IndexError):
        raise InputError(f"line {n}: expected 'contig<TAB>start<TAB>end' (0-based BED)") from None
    if start < 0 or end < start:
        raise InputError(f"line {n}: start {start} / end {end} are not a valid BED interval")
    if ref_lengths is not None:
        check_contigs([contig], ref_lengths, f"line {n}", "the reference", contig_map)
        length = ref_lengths[contig_map(contig)]
        if end > length:
            raise InputError(
                f"line {n}: end {end:,} is past the end of {contig_map(contig)} "
                f"(length {length:,} in the reference); is the BED for another assembly?"
            )
    return Region(contig_map(contig), start, end) if end > start else None


def merge_regions(regions: Iterable[Region]) -> list[Region]:
    """Sort and merge overlapping or touching regions (contigs kept in first-seen order)."""
    regions = list(regions)
    order = {c: i for i, c in reversed(list(enumerate(r.contig for r in regions)))}
    out: list[Region] = []
    for r in sorted(regions, key=lambda r: (order[r.contig], r.start, r.end)):
        if out and out[-1].contig == r.contig and r.start <= out[-1].end:
            out[-1] = Region(r.contig, out[-1].start, max(out[-1].end, r.end))
        else:
            out.append(r)
    return out


def intersect_regions(a: Iterable[Region], b: Iterable[Region]) -> list[Region]:
    """Intersection of two region lists."""
    by_contig: dict[str, list[Region]] = {}
    for r in merge_regions(b):
        by_contig.setdefault(r.contig, []).append(r)
    out = []
    for r in merge_regions(a):
        for s in by_contig.get(r.contig, []):
            lo, hi = max(r.start, s.start), min(r.end, s.end)
            if lo < hi:
                out.append(Region(r.contig, lo, hi))
    return out


def shard_regions(regions: Iterable[Region], size: int) -> list[Region]:
    """Cut regions into consecutive shards of at most `size` bp (the unit of parallel work)."""
    if size <= 0:
        raise ValueError("shard size must be positive")
    out = []
    for r in regions:
        for s in range(r.start, r.end, size):
            out.append(Region(r.contig, s, min(s + size, r.end)))
    return out


class IntervalSet:
    """Fast membership tests of positions / spans in a set of regions (e.g. a confident BED)."""

    def __init__(self, regions: Iterable[Region]):
        import numpy as np

        self._starts: dict[str, "np.ndarray"] = {}
        self._ends: dict[str, "np.ndarray"] = {}
        grouped: dict[str, list[Region]] = {}
        for r in merge_regions(regions):
            grouped.setdefault(r.contig, []).append(r)
        for contig, rs in grouped.items():
            self._starts[contig] = np.array([r.start for r in rs], dtype=np.int64)
            self._ends[contig] = np.array([r.end for r in rs], dtype=np.int64)

    def contains_span(self, contig: str, start: int, end: int) -> bool:
        """True when [start, end) lies inside one interval."""
        import numpy as np

        starts = self._starts.get(contig)
        if starts is None:
            return False
        i = int(np.searchsorted(starts, start, side="right")) - 1
        return i >= 0 and end <= self._ends[contig][i]

    def contains(self, contig: str, pos: int) -> bool:
        return self.contains_span(contig, pos, pos + 1)

    def overlaps(self, contig: str, start: int, end: int) -> bool:
        """True when [start, end) overlaps an interval."""
        import numpy as np

        starts = self._starts.get(contig)
        if starts is None:
            return False
        i = int(np.searchsorted(starts, end, side="left")) - 1
        return i >= 0 and self._ends[contig][i] > start
