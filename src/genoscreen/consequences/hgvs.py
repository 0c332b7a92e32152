"""HGVS protein descriptions (p.) of a change between a reference and a mutant protein.

`describe(reference, mutant, frameshift)` compares the two translations (each up to and without its stop) and
names the change the HGVS way, with three-letter amino acids (Biopython's seq3; the stop is `Ter`): missense
`p.Thr315Ile`, stop gain `p.Arg97Ter`, start loss `p.Met1?`, in-frame deletion `p.Glu746_Ala750del`, insertion
`p.Lys10_Leu11insGlyAla`, duplication `p.Gly12dup`, deletion-insertion `p.Leu747_Pro753delinsSer`, stop loss
`p.Ter1211GlnextTer5`, frameshift `p.Arg97GlyfsTer23` (the new stop counted from the first changed residue, `?`
when the sequence read ends first), synonymous `p.=`. Positions follow HGVS's 3' rule: the common prefix is taken
first, so a change in a repeat is placed at its most C-terminal position.
"""

from __future__ import annotations

from Bio.SeqUtils import seq3

MISSENSE, STOP_GAINED, START_LOST, STOP_LOST = "missense", "stop_gained", "start_lost", "stop_lost"
INFRAME_DELETION, INFRAME_INSERTION, FRAMESHIFT, SYNONYMOUS = ("inframe_deletion", "inframe_insertion", "frameshift",
                                                               "synonymous")


def _aa(residue: str) -> str:
    return seq3(residue) if residue != "*" else "Ter"


def _at(protein: str, i: int) -> str:
    """`Xaa{i+1}` for the residue at 0-based index i."""
    return f"{_aa(protein[i])}{i + 1}"


def _span(protein: str, first: int, last: int) -> str:
    return _at(protein, first) if first == last else f"{_at(protein, first)}_{_at(protein, last)}"


def describe(reference: str, mutant: str, frameshift: bool, mutant_stops: bool = True,
             reference_stops: bool = True) -> tuple[str, str]:
    """(consequence, HGVS p.) of `mutant` against `reference`: protein sequences without their stop;
    `mutant_stops` / `reference_stops` say whether a stop ended them (False: the sequence read ran out first)."""
    ref, mut = reference, mutant
    prefix = 0
    while prefix < min(len(ref), len(mut)) and ref[prefix] == mut[prefix]:
        prefix += 1
    if ref == mut and mutant_stops == reference_stops:
        return SYNONYMOUS, "p.="
    if prefix == 0 and ref[:1] == "M" and mut[:1] != "M":
        return START_LOST, "p.Met1?"
    if frameshift:
        if prefix >= len(ref):  # the frame changes past the last residue: the stop moves
            return STOP_LOST, _stop_lost(ref, mut, mutant_stops)
        if prefix == len(mut) and mutant_stops:  # the first changed codon is a stop
            return STOP_GAINED, f"p.{_at(ref, prefix)}Ter"
        stop = str(len(mut) - prefix + 1) if mutant_stops else "?"
        return FRAMESHIFT, f"p.{_at(ref, prefix)}{_aa(mut[prefix])}fsTer{stop}"
    if prefix == len(ref) and len(mut) > len(ref) and reference_stops:
        return STOP_LOST, _stop_lost(ref, mut, mutant_stops)
    if prefix == len(mut) and len(mut) < len(ref) and mutant_stops:
        return STOP_GAINED, f"p.{_at(ref, prefix)}Ter"
    suffix = 0
    while suffix < min(len(ref), len(mut)) - prefix and ref[len(ref) - 1 - suffix] == mut[len(mut) - 1 - suffix]:
        suffix += 1
    deleted, inserted = ref[prefix : len(ref) - suffix], mut[prefix : len(mut) - suffix]
    if len(deleted) == 1 and len(inserted) == 1:
        return MISSENSE, f"p.{_at(ref, prefix)}{_aa(inserted)}"
    if not inserted:
        return INFRAME_DELETION, f"p.{_span(ref, prefix, prefix + len(deleted) - 1)}del"
    if not deleted:
        k = len(inserted)
        if prefix >= k and ref[prefix - k : prefix] == inserted:
            return INFRAME_INSERTION, f"p.{_span(ref, prefix - k, prefix - 1)}dup"
        if prefix == 0 or prefix >= len(ref):
            return INFRAME_INSERTION, f"p.{_span(ref, max(prefix - 1, 0), max(prefix - 1, 0))}ins{seq3(inserted)}"
        return INFRAME_INSERTION, f"p.{_at(ref, prefix - 1)}_{_at(ref, prefix)}ins{seq3(inserted)}"
    kind = INFRAME_DELETION if len(deleted) > len(inserted) else INFRAME_INSERTION if len(inserted) > len(deleted) \
        else MISSENSE
    return kind, f"p.{_span(ref, prefix, prefix + len(deleted) - 1)}delins{seq3(inserted)}"


def _stop_lost(ref: str, mut: str, mutant_stops: bool) -> str:
    """p.Ter{n}{Xaa}extTer{k}: the reference stop at n = len(ref) + 1 read through to a new stop k codons on."""
    new = _aa(mut[len(ref)]) if len(mut) > len(ref) else "Ter"
    k = str(len(mut) - len(ref)) if mutant_stops else "?"
    return f"p.Ter{len(ref) + 1}{new}extTer{k}"
