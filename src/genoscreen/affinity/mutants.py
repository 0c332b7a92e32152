"""Mutant kinases from their names: `ABL1(T315I)` -> the ABL1 sequence with Thr315 replaced by Ile.

DeepDTA's Davis file gives most mutant kinases the wild type's sequence (ABL1 and ABL1(T315I) are the same string
with different labels), so no model trained on it can learn what a mutation does. `build_mutants` rebuilds them
from the names, in the file's own spelling:

- point mutations `T315I`, several at once `L858RT790M` or `V559D-T670I`;
- deletions `E746A750del` (residues 746 to 750, both named);
- a trailing `p` after the parenthesis (`ABL1(T315I)p`, the phosphorylated form) names the same mutation.

Each mutant is built on its gene's wild-type record (the name before the parenthesis). The residue numbering of a
record may be offset from the named positions (Davis' ABL1 record puts T315 at residue 352, 37 further; its
PIK3CA is off by 1): per gene, the offset is 0 when every named residue of every mutant of the gene sits there,
else the only offset at which they all do, provided the names state at least `MIN_RESIDUES_FOR_OFFSET` distinct
residues (two residues fit some offset of a 500-residue fragment by chance about as often as not). A gene whose
residues fit no offset, or fit a shifted one on too little evidence, is not built (its mutants keep their sequence and are listed with the reason); so are names that are not mutations
(`JAK1(JH1domain-catalytic)`, `FLT3(ITD)`: a duplication of unstated length).
"""

from __future__ import annotations

import dataclasses
import re

_NAME = re.compile(r"^(?P<gene>[^()]+)\((?P<change>[^()]+)\)(?P<phospho>p?)$")
_POINT = re.compile(r"([ACDEFGHIKLMNPQRSTVWY])(\d+)([ACDEFGHIKLMNPQRSTVWY])")
_DELETION = re.compile(r"^([ACDEFGHIKLMNPQRSTVWY])(\d+)([ACDEFGHIKLMNPQRSTVWY])(\d+)del$")

STATUS_BUILT = "built"
MIN_RESIDUES_FOR_OFFSET = 4


@dataclasses.dataclass(frozen=True)
class Mutation:
    """One named change: residues `start`..`end` (1-based, the name's numbering) replaced by `new` ("" = deleted);
    `named` are the (residue, position) pairs the name states (checked against the wild type)."""

    start: int
    end: int
    new: str
    named: tuple[tuple[str, int], ...]


@dataclasses.dataclass(frozen=True)
class MutantName:
    gene: str
    mutations: tuple[Mutation, ...]


@dataclasses.dataclass(frozen=True)
class MutantRecord:
    """What became of one target whose name names a mutation of a gene in the file."""

    target_id: str
    gene: str
    status: str  # "built" or the reason it was not
    offset: int | None = None


def parse_mutant_name(name: str) -> MutantName | None:
    """`ABL1(T315I)` -> MutantName("ABL1", (T315I,)); None for a name that is not a mutation in this spelling."""
    found = _NAME.match(name.strip())
    if found is None:
        return None
    change = found.group("change")
    deletion = _DELETION.match(change)
    if deletion:
        first, start, last, end = deletion.group(1), int(deletion.group(2)), deletion.group(3), int(deletion.group(4))
        if end < start:
            return None
        return MutantName(found.group("gene"), (Mutation(start, end, "", ((first, start), (last, end))),))
    mutations = []
    for part in change.split("-"):
        points = _POINT.findall(part)
        if not points or "".join(a + b + c for a, b, c in points) != part:
            return None
        mutations += [Mutation(int(pos), int(pos), new, ((old, int(pos)),)) for old, pos, new in points]
    return MutantName(found.group("gene"), tuple(mutations))


def numbering_offset(wild_type: str, named: set[tuple[str, int]]) -> int | None:
    """The offset k with wild_type[pos - 1 + k] == residue for every named (residue, pos): 0 when it fits, else the
    only one that does if at least MIN_RESIDUES_FOR_OFFSET residues are named; None otherwise."""
    def fits(k: int) -> bool:
        return all(0 <= pos - 1 + k < len(wild_type) and wild_type[pos - 1 + k] == res for res, pos in named)

    if fits(0):
        return 0
    if len(named) < MIN_RESIDUES_FOR_OFFSET:
        return None
    offsets = [k for k in range(-max(p for _, p in named), len(wild_type)) if fits(k)]
    return offsets[0] if len(offsets) == 1 else None


def apply_mutations(wild_type: str, mutations: tuple[Mutation, ...], offset: int) -> str:
    """`wild_type` with every mutation applied (positions shifted by `offset`), from the C-terminal end so earlier
    positions keep their meaning."""
    seq = wild_type
    for m in sorted(mutations, key=lambda m: m.start, reverse=True):
        seq = seq[: m.start - 1 + offset] + m.new + seq[m.end + offset :]
    return seq


def build_mutants(targets: dict[str, str]) -> tuple[dict[str, str], list[MutantRecord]]:
    """(`targets` with each buildable mutant's sequence rebuilt from its wild type, one record per target whose name
    parses as a mutation of a gene in `targets`). Other targets pass through unchanged, in order."""
    parsed = {tid: parse_mutant_name(tid) for tid in targets}
    by_gene: dict[str, set[tuple[str, int]]] = {}
    for tid, name in parsed.items():
        if name is not None and name.gene in targets:
            by_gene.setdefault(name.gene, set()).update(r for m in name.mutations for r in m.named)
    offsets = {gene: numbering_offset(targets[gene], named) for gene, named in by_gene.items()}
    out = dict(targets)
    records = []
    for tid, name in parsed.items():
        if name is None or name.gene not in targets:
            continue
        offset = offsets[name.gene]
        if offset is None:
            records.append(MutantRecord(tid, name.gene, f"no single numbering of {name.gene} puts every named "
                                        "residue of its mutants in place; kept as in the file"))
            continue
        out[tid] = apply_mutations(targets[name.gene], name.mutations, offset)
        records.append(MutantRecord(tid, name.gene, STATUS_BUILT, offset))
    for tid in targets:  # names of a known gene that are not mutations in this spelling (FLT3(ITD))
        gene = tid.split("(", 1)[0]
        if parsed[tid] is None and "(" in tid and gene in targets and gene != tid and targets[tid] == targets[gene]:
            records.append(MutantRecord(tid, gene, "not a point mutation or a stated deletion; kept as in the file"))
    return out, records


def wild_types(targets: dict[str, str]) -> dict[str, str]:
    """mutant target id -> its wild type's id, for the mutants whose sequence differs from the wild type's (those
    `build_mutants` rebuilt): the pairs a mutation's effect can be measured on."""
    out = {}
    for tid, seq in targets.items():
        name = parse_mutant_name(tid)
        if name is not None and name.gene in targets and seq != targets[name.gene]:
            out[tid] = name.gene
    return out


def gene_of(mutant_id: str) -> str | None:
    """The wild type's name in a mutant target's id: `ABL1:p.Thr315Ile` (genoscreen consequences) or
    `ABL1(T315I)` (Davis) -> "ABL1"; None for an id of neither form."""
    if ":p." in mutant_id:
        return mutant_id.split(":p.", 1)[0] or None
    name = parse_mutant_name(mutant_id)
    return name.gene if name is not None else None
