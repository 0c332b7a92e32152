"""Protein FASTA: the one reader of target sequences (`screen --targets`, panels, `affinity train|cv|predict`) and
its writer (`affinity mutants`)."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from genoscreen.affinity.featurize import PROTEIN_VOCAB
from genoscreen.common.errors import InputError
from genoscreen.common.io import text_lines

log = logging.getLogger(__name__)

_NUCLEOTIDES = set("ACGTUN")


def read_targets(fasta_path: str | Path, allow_empty: bool = False) -> dict[str, str]:
    """Read a protein FASTA into an ordered {id: SEQUENCE} (upper-cased, '*' stop codons kept as unknown).

    A nucleotide-looking sequence, an empty sequence, a duplicate id or a line that is not UTF-8 is an InputError, and
    so is a file without a sequence unless `allow_empty` (a sample's mutant proteins, when it has none).
    Letters outside DeepDTA's 25-letter alphabet are kept (the featurizer maps them to the unknown token), counted
    and warned about.
    """
    from Bio import SeqIO

    path = Path(fasta_path)
    if not path.exists():
        raise InputError(f"{path}: FASTA file not found; check the path")
    targets: dict[str, str] = {}
    odd: dict[str, int] = {}
    allowed = set(PROTEIN_VOCAB)
    lines = []
    header = None
    for line_no, line, problem in text_lines(path):
        if line.startswith(">"):
            header = line[1:].split(maxsplit=1)[0] if line[1:].strip() else ""
        if problem:
            where = "a header" if line.startswith(">") else f"in record {header}" if header else "before any header"
            raise InputError(f"{path}: line {line_no} ({where}): {problem}; re-save the FASTA as UTF-8 (or ASCII) "
                             "text")
        lines.append(line)
    if not lines and allow_empty:
        return targets
    if lines and not lines[0].startswith(">"):
        raise InputError(f"{path}: not a FASTA file (does not start with '>'); give protein sequences in FASTA")
    with io.StringIO("".join(lines)) as handle:
        for record in SeqIO.parse(handle, "fasta"):
            ident = record.id
            seq = re.sub(r"\s+", "", str(record.seq)).upper()
            if ident in targets:
                raise InputError(f"{path}: {ident}: duplicate sequence id; make FASTA ids unique")
            if not seq:
                raise InputError(f"{path}: {ident}: empty sequence; remove the record or add its sequence")
            if len(seq) >= 10 and sum(c in _NUCLEOTIDES for c in seq) >= 0.9 * len(seq):
                raise InputError(
                    f"{path}: {ident}: looks like a DNA/RNA sequence, not a protein; give protein sequences "
                    "(translate coding sequences first)"
                )
            n_odd = sum(c not in allowed for c in seq)
            if n_odd:
                odd[ident] = n_odd
            targets[ident] = seq
    if not targets and not allow_empty:
        raise InputError(f"{path}: no sequences found; give a protein FASTA")
    if odd:
        shown = ", ".join(f"{k} ({v})" for k, v in list(odd.items())[:5])
        log.warning(
            "%s: %d residue(s) in %d sequence(s) outside the 25-letter protein alphabet map to the unknown token: %s%s",
            path, sum(odd.values()), len(odd), shown, "…" if len(odd) > 5 else "",
        )
    return targets


def write_targets(path: str | Path, targets: dict[str, str], width: int = 60) -> Path:
    """Write {id: sequence} as a protein FASTA (lines of `width` residues), atomically."""
    from genoscreen.common.io import atomic_open

    with atomic_open(path) as handle:
        for ident, seq in targets.items():
            handle.write(f">{ident}\n")
            handle.writelines(seq[i : i + width] + "\n" for i in range(0, len(seq), width))
    return Path(path)
