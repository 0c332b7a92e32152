"""Readers for the affinity inputs: compounds (.smi/.tsv/.csv/.sdf, optionally gzipped), protein FASTA, pairs TSV.

Every SMILES is validated by RDKit at this boundary. Invalid ones, and compound records that are not UTF-8 text, are
an explicit decision: written to the errors file with their row and the reason, counted, and skipped, and the run
goes on. Structural problems (missing columns, duplicate ids, a nucleotide FASTA, an empty sequence, a FASTA line
that is not UTF-8) are `InputError`s naming the file, record and fix.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from genoscreen.affinity.featurize import PROTEIN_VOCAB
from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open, open_binary, strip_compression_suffix, text_lines

log = logging.getLogger(__name__)

ID_COLUMNS = ("drug_id", "compound_id", "id")
LABEL_COLUMNS = ("label", "affinity", "pkd", "kiba_score", "y")
ERRORS_HEADER = ("row", "id", "smiles", "reason")


def smiles_problem(smiles: str) -> str | None:
    """None if RDKit parses and sanitizes `smiles`, else the reason it does not."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    if not smiles:
        return "empty SMILES"
    mol = Chem.MolFromSmiles(smiles, sanitize=False)
    if mol is None:
        return "RDKit cannot parse the SMILES"
    try:
        Chem.SanitizeMol(mol)
    except Exception as err:  # RDKit raises several sanitization exception types
        return f"RDKit sanitization failed: {str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__}"
    return None


def _not_utf8(problem: str) -> str:
    return f"not UTF-8 text ({problem}); re-save the file as UTF-8"


def _read_smi(path: Path, errors: list[tuple[int, str, str, str]]) -> list[tuple[int, str, str]]:
    records = []
    for line_no, line, problem in text_lines(path):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if line_no == 1 and fields[0].lower() == "smiles":
            continue
        ident = fields[1] if len(fields) > 1 else f"row{line_no}"
        if problem:  # one bad record, skipped like an invalid SMILES (its id shown with U+FFFD for the bad bytes)
            errors.append((line_no, ident, fields[0], _not_utf8(problem)))
            continue
        records.append((line_no, ident, fields[0]))
    return records


def _read_table(path: Path, sep: str, errors: list[tuple[int, str, str, str]]) -> list[tuple[int, str, str]]:
    try:  # bytes that are not UTF-8 become U+FFFD: the rows holding them are skipped below
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding_errors="replace")
    except Exception as err:
        raise InputError(f"{path}: cannot read as a {'TSV' if sep == chr(9) else 'CSV'} table ({err}); check the format") from err
    lower = {c.lower(): c for c in frame.columns}
    if "smiles" not in lower:
        raise InputError(f"{path}: no 'smiles' column (columns: {', '.join(frame.columns)}); add a header with 'smiles'")
    id_col = next((lower[c] for c in ID_COLUMNS if c in lower), None)
    if id_col is None:
        raise InputError(f"{path}: no id column; name one of {', '.join(ID_COLUMNS)}")
    smiles_col = lower["smiles"]
    records = []
    for i, (ident, smi) in enumerate(zip(frame[id_col], frame[smiles_col])):
        record = (i + 2, str(ident).strip(), str(smi).strip())
        if "\ufffd" in record[1] + record[2]:
            errors.append((*record, _not_utf8("a byte in its id or SMILES")))
        else:
            records.append(record)
    return records


def _read_sdf(path: Path, errors: list[tuple[int, str, str, str]]) -> list[tuple[int, str, str]]:
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    records = []
    with open_binary(path) as handle:
        # Unsanitized first, so a record that fails sanitization keeps its id in the errors file (and pairs that
        # name it are skipped as invalid, not reported as unknown ids).
        for rec_no, mol in enumerate(Chem.ForwardSDMolSupplier(handle, sanitize=False), start=1):
            if mol is None:
                errors.append((rec_no, "", "", "RDKit cannot read this SDF record"))
                continue
            try:
                ident = (next((mol.GetProp(p) for p in ID_COLUMNS if mol.HasProp(p)), None)
                         or mol.GetProp("_Name").strip())
            except UnicodeDecodeError as err:
                errors.append((rec_no, f"record{rec_no}", "",
                               _not_utf8(f"byte 0x{err.object[err.start]:02x} in its name or id property")))
                continue
            ident = ident or f"record{rec_no}"
            try:
                Chem.SanitizeMol(mol)
            except Exception as err:  # RDKit raises several sanitization exception types
                reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                errors.append((rec_no, ident, "", f"RDKit sanitization failed: {reason}"))
                continue
            records.append((rec_no, ident, Chem.MolToSmiles(mol)))
    return records


def read_compounds(path: str | Path, errors_path: str | Path | None = None,
                   allow_empty: bool = False) -> tuple[list[str], list[str], int]:
    """Read compounds; returns (ids, smiles, n_invalid) for the valid ones, in file order (see `load_compounds`)."""
    ids, smiles, invalid = load_compounds(path, errors_path, allow_empty)
    return ids, smiles, len(invalid)


def load_compounds(
    path: str | Path, errors_path: str | Path | None = None, allow_empty: bool = False
) -> tuple[list[str], list[str], list[tuple[int, str, str, str]]]:
    """Read compounds; returns (ids, smiles, invalid) with invalid = [(row, id, smiles, reason), ...].

    Formats by extension (after an optional .gz): .smi/.smiles (SMILES, whitespace, id), .tsv/.csv (a `smiles`
    column and one of `drug_id`, `compound_id`, `id`), .sdf (RDKit; id from a drug_id/compound_id/id property or
    the molecule name). Invalid SMILES are written to `errors_path` (TSV: row, id, smiles, reason), counted and
    skipped. Duplicate ids are an InputError, and so is a file without a valid compound unless `allow_empty`
    (one chunk of a library, whose other chunks may hold the valid ones).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: compound file not found; check the path")
    name = strip_compression_suffix(path)
    errors: list[tuple[int, str, str, str]] = []
    if name.endswith((".smi", ".smiles", ".ism")):
        records = _read_smi(path, errors)
    elif name.endswith(".tsv") or name.endswith(".txt"):
        records = _read_table(path, "\t", errors)
    elif name.endswith(".csv"):
        records = _read_table(path, ",", errors)
    elif name.endswith((".sdf", ".sd", ".mol")):
        records = _read_sdf(path, errors)
    else:
        raise InputError(f"{path}: unknown compound format; use .smi, .tsv, .csv or .sdf (optionally .gz)")

    ids: list[str] = []
    smiles: list[str] = []
    seen: dict[str, int] = {}
    for row, ident, smi in records:
        if ident in seen:
            raise InputError(
                f"{path}: row {row}: duplicate compound id '{ident}' (first at row {seen[ident]}); make ids unique"
            )
        seen[ident] = row
        problem = smiles_problem(smi)
        if problem:
            errors.append((row, ident, smi, problem))
            continue
        ids.append(ident)
        smiles.append(smi)
    errors.sort(key=lambda e: e[0])  # file order (SDF read errors and invalid SMILES are found in two passes)
    if not ids and not allow_empty:
        first = f", first: row {errors[0][0]}: {errors[0][3]}" if errors else ""
        raise InputError(f"{path}: no valid compounds ({len(errors)} invalid{first}); check the file")
    if errors:  # the errors file is named by the caller once it is in place (it may be a temporary here)
        log.warning("%s: %d invalid compound(s) skipped (first: row %d: %s)", path, len(errors), errors[0][0],
                    errors[0][3])
    if errors_path is not None:  # only for a usable file: a failed run leaves an earlier errors file alone
        with atomic_open(errors_path, newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow(ERRORS_HEADER)
            writer.writerows(errors)
    return ids, smiles, errors


_NUCLEOTIDES = set("ACGTUN")


def read_targets(fasta_path: str | Path) -> dict[str, str]:
    """Read a protein FASTA into an ordered {id: SEQUENCE} (upper-cased, '*' stop codons kept as unknown).

    A nucleotide-looking sequence, an empty sequence, a duplicate id or a line that is not UTF-8 is an InputError.
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
    if not targets:
        raise InputError(f"{path}: no sequences found; give a protein FASTA")
    if odd:
        shown = ", ".join(f"{k} ({v})" for k, v in list(odd.items())[:5])
        log.warning(
            "%s: %d residue(s) in %d sequence(s) outside the 25-letter protein alphabet map to the unknown token: %s%s",
            path, sum(odd.values()), len(odd), shown, "…" if len(odd) > 5 else "",
        )
    return targets


def read_pairs(path: str | Path) -> pd.DataFrame:
    """Read a pairs TSV: columns `drug_id`, `target_id`, an optional label, an optional integer `fold`.

    The label is the column named `label`, `affinity`, `pkd`, `kiba_score` or `y`, else the single other column when
    at least half its values are numbers.
    Returns a DataFrame with `drug_id`, `target_id` (str) and, when present, `label` (float) and `fold` (int);
    `df.attrs["label_name"]` keeps the label column's original name.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: pairs file not found; check the path")
    sep = "," if strip_compression_suffix(path).endswith(".csv") else "\t"
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except Exception as err:
        raise InputError(f"{path}: cannot read as a table ({err}); give a TSV with drug_id and target_id") from err
    missing = [c for c in ("drug_id", "target_id") if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; the header needs drug_id and target_id")
    if frame.empty:
        raise InputError(f"{path}: no pairs; add rows")
    out = pd.DataFrame({"drug_id": frame["drug_id"].str.strip(), "target_id": frame["target_id"].str.strip()})
    others = [c for c in frame.columns if c not in ("drug_id", "target_id", "fold")]
    label_col = next((c for c in others if c.lower() in LABEL_COLUMNS), None)
    if label_col is None and len(others) == 1:
        # an unnamed extra column is the label when it is mostly numbers (a typo in a row is then reported);
        # a text column (e.g. notes in a predict/screen pairs file) is not
        numeric = pd.to_numeric(frame[others[0]], errors="coerce").notna().mean()
        label_col = others[0] if numeric >= 0.5 else None
    if label_col is not None:
        values = pd.to_numeric(frame[label_col], errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy())
        if len(bad):
            raise InputError(
                f"{path}: row {bad[0] + 2}: label '{frame[label_col].iloc[bad[0]]}' in column {label_col} is not a "
                "number; fix or remove the row"
            )
        out["label"] = values.to_numpy(dtype=np.float64)
    if "fold" in frame.columns:
        folds = pd.to_numeric(frame["fold"], errors="coerce")
        bad = np.flatnonzero(folds.isna().to_numpy() | (folds % 1 != 0).to_numpy())
        if len(bad):
            raise InputError(f"{path}: row {bad[0] + 2}: fold '{frame['fold'].iloc[bad[0]]}' is not an integer")
        out["fold"] = folds.to_numpy().astype(np.int64)
    out.attrs["label_name"] = label_col
    return out


def check_pair_ids(pairs: pd.DataFrame, drug_ids, target_ids, pairs_path, drugs_path, targets_path,
                   invalid_drugs: set[str] | frozenset = frozenset()) -> None:
    """InputError if a pair names a drug or target absent from the inputs (invalid-SMILES drugs are not 'absent')."""
    known_drugs = set(drug_ids) | set(invalid_drugs)
    for column, known, source in (("drug_id", known_drugs, drugs_path), ("target_id", set(target_ids), targets_path)):
        values = pairs[column].to_numpy()
        missing = ~np.isin(values, list(known))
        if missing.any():
            first = int(np.flatnonzero(missing)[0])
            n_missing = len(set(values[missing]))
            raise InputError(
                f"{pairs_path}: row {first + 2}: {column} '{values[first]}' not found in {source}"
                f" ({n_missing} unknown {column} value(s) in total); add it there or remove the pair"
            )
