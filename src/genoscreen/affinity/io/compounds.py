"""Compound libraries: the one reader (and the .smi writer) of every compound file, and its invalid-compound table.

Formats by extension, after an optional `.gz` (`FORMATS`): `.smi`/`.smiles`/`.ism` (SMILES, whitespace, id),
`.tsv` and `.csv` (a `smiles` column and one of `drug_id`, `compound_id`, `id`), `.sdf`/`.sd`/`.mol` (RDKit;
id from a drug_id/compound_id/id property or the molecule name). `Columns` names other places for the id and the
SMILES (a header name, or a 1-based field number: DeepPurpose's `name SMILES` lines are a .smi with id field 1 and
SMILES field 2). `screen`, `affinity train|cv|predict` and the workflow's chunker all go through here, so a file one
of them accepts the others accept.

Every SMILES is validated by RDKit at this boundary. Invalid ones, and compound records that are not UTF-8 text, are
an explicit decision: written to the errors file with their row and the reason, counted, and skipped, and the run
goes on. Structural problems (missing columns, duplicate ids) are `InputError`s naming the file, record and fix.

`read_library_text` gives a file's records as text with the rows and ids the reader reports, for splitting a
library into chunks of the same format without parsing a molecule.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open, open_binary, open_text, strip_compression_suffix, text_lines

log = logging.getLogger(__name__)

# extension -> the format's canonical extension (the one its chunks take)
# (no .txt: the name says nothing of the layout, and a .smi read as a table fails on its header)
FORMATS = {".smi": ".smi", ".smiles": ".smi", ".ism": ".smi", ".tsv": ".tsv", ".csv": ".csv", ".sdf": ".sdf",
           ".sd": ".sdf", ".mol": ".sdf"}
ID_COLUMNS = ("drug_id", "compound_id", "id")
ERRORS_HEADER = ("row", "id", "smiles", "reason")
_SDF_PROP = re.compile(r"^>.*<([^>]+)>")

Record = tuple[int, str, str]  # (row, id, SMILES)
Problem = tuple[int, str, str, str]  # (row, id, SMILES, reason): a row of the errors file


@dataclass(frozen=True)
class Columns:
    """Where a compound file keeps each compound's id and SMILES; None = the format's default (.smi: SMILES in field
    1, id in field 2; tables: the `smiles` column and the first of ID_COLUMNS; .sdf: an ID_COLUMNS property or the
    molecule name). A value is a header name (.tsv/.csv; matched exactly, else ignoring case) or a 1-based field
    number (.smi, whose whitespace-separated fields have no header, and tables). For .sdf, `id` names the property
    holding the id; there is no SMILES column to name."""

    id: str | None = None
    smiles: str | None = None

    def __post_init__(self):
        for what, value in (("id", self.id), ("SMILES", self.smiles)):
            if value is not None and (not str(value).strip() or str(value).strip().lstrip("-").isdigit()
                                      and int(value) < 1):
                raise InputError(f"{what} column {value!r}: give a column name or a field number (1 = the first)")
        object.__setattr__(self, "id", None if self.id is None else str(self.id).strip())
        object.__setattr__(self, "smiles", None if self.smiles is None else str(self.smiles).strip())

    def smi_fields(self, path: str | Path) -> tuple[int, int]:
        """(SMILES, id) 0-based field indexes in a .smi line; InputError for a column name (no header to name)."""
        for what, value in (("id", self.id), ("SMILES", self.smiles)):
            if value is not None and not value.isdigit():
                raise InputError(f"{path}: a .smi file has no header to find the {what} column {value!r} in; give "
                                 f"its field number (1 = the first whitespace-separated field)")
        return (int(self.smiles) - 1 if self.smiles else 0), (int(self.id) - 1 if self.id else 1)

    def table_column(self, path: str | Path, columns: list[str], which: str) -> str | None:
        """The header name of the table's id (`which` "id") or SMILES column; None if the default id is absent."""
        wanted = self.id if which == "id" else self.smiles
        if wanted is None:
            if which == "id":
                return _id_column(columns)
            return next((c for c in columns if c.lower() == "smiles"), None)
        if wanted.isdigit():
            if int(wanted) > len(columns):
                raise InputError(f"{path}: no {which} column {wanted}: the table has {len(columns)} column(s) "
                                 f"({', '.join(columns)})")
            return columns[int(wanted) - 1]
        found = wanted if wanted in columns else next((c for c in columns if c.lower() == wanted.lower()), None)
        if found is None:
            raise InputError(f"{path}: no {which} column {wanted!r} (columns: {', '.join(columns)}); name one of them")
        return found

    def sdf_id_properties(self, path: str | Path) -> tuple[str, ...]:
        """The SDF properties an id is taken from, in order of preference."""
        if self.smiles is not None:
            raise InputError(f"{path}: an SDF record holds its structure, not a SMILES column; drop the SMILES column")
        if self.id is not None and self.id.isdigit():
            raise InputError(f"{path}: an SDF has no numbered columns; give the name of the property holding the id")
        return (self.id,) if self.id is not None else ID_COLUMNS


DEFAULT_COLUMNS = Columns()


def compound_format(path: str | Path) -> str:
    """'lib.smiles.gz' -> '.smi': the canonical extension of a compound file's format; InputError if unknown."""
    name = strip_compression_suffix(path)
    for suffix, fmt in FORMATS.items():
        if name.endswith(suffix):
            return fmt
    hint = ""
    if name.endswith(".txt"):
        hint = ("; a file of whitespace-separated fields (such as DeepPurpose's `name SMILES` lines) is a .smi: "
                "rename it and give its id and SMILES field numbers (--id-column 1 --smiles-column 2)")
    raise InputError(f"{path}: unknown compound file type; use one of {', '.join(FORMATS)} (optionally .gz){hint}")


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
        return f"RDKit sanitization failed: {_first_line(err)}"
    return None


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _not_utf8(problem: str) -> str:
    return f"not UTF-8 text ({problem}); re-save the file as UTF-8"


def _smi_fields(line: str) -> list[str] | None:
    """The fields of a .smi line that holds a compound (SMILES, then its id if given), else None."""
    fields = line.split()
    return fields if fields and not fields[0].startswith("#") else None


def _id_column(columns: Iterable[str]) -> str | None:
    """The id column among a table's `columns` (matched case-insensitively), or None."""
    lower = {c.lower(): c for c in columns}
    return next((lower[c] for c in ID_COLUMNS if c in lower), None)


def _read_smi(path: Path, errors: list[Problem], columns: Columns) -> list[Record]:
    smiles_at, id_at = columns.smi_fields(path)
    records = []
    for line_no, line, problem in text_lines(path):
        fields = _smi_fields(line)
        smi = fields[smiles_at] if fields and len(fields) > smiles_at else ""
        if fields is None or (line_no == 1 and smi.lower() == "smiles"):
            continue
        ident = fields[id_at] if len(fields) > id_at else f"row{line_no}"
        if problem:  # one bad record, skipped like an invalid SMILES (its id shown with U+FFFD for the bad bytes)
            errors.append((line_no, ident, smi, _not_utf8(problem)))
            continue
        if not smi:
            errors.append((line_no, ident, "", f"no field {smiles_at + 1} (the SMILES column) on this line"))
            continue
        records.append((line_no, ident, smi))
    return records


def _read_table(path: Path, sep: str, errors: list[Problem], columns: Columns) -> list[Record]:
    try:  # bytes that are not UTF-8 become U+FFFD: the rows holding them are skipped below
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding_errors="replace")
    except Exception as err:
        raise InputError(f"{path}: cannot read as a {'TSV' if sep == chr(9) else 'CSV'} table ({err}); check the format") from err
    names = [str(c) for c in frame.columns]
    smiles_col = columns.table_column(path, names, "SMILES")
    if smiles_col is None:
        raise InputError(f"{path}: no 'smiles' column (columns: {', '.join(names)}); add a header with 'smiles' "
                         f"or name the SMILES column")
    id_col = columns.table_column(path, names, "id")
    if id_col is None:
        raise InputError(f"{path}: no id column; name one of {', '.join(ID_COLUMNS)}, or name the id column")
    if id_col == smiles_col:
        raise InputError(f"{path}: the id and SMILES columns are both {id_col!r}; name two different columns")
    records = []
    for i, (ident, smi) in enumerate(zip(frame[id_col], frame[smiles_col])):
        record = (i + 2, str(ident).strip(), str(smi).strip())
        if "\ufffd" in record[1] + record[2]:
            errors.append((*record, _not_utf8("a byte in its id or SMILES")))
        else:
            records.append(record)
    return records


def _read_sdf(path: Path, errors: list[Problem], columns: Columns) -> list[Record]:
    from rdkit import Chem, RDLogger

    id_properties = columns.sdf_id_properties(path)
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
                ident = (next((mol.GetProp(p) for p in id_properties if mol.HasProp(p)), None)
                         or mol.GetProp("_Name").strip())
            except UnicodeDecodeError as err:
                errors.append((rec_no, f"record{rec_no}", "",
                               _not_utf8(f"byte 0x{err.object[err.start]:02x} in its name or id property")))
                continue
            ident = ident or f"record{rec_no}"
            try:
                Chem.SanitizeMol(mol)
            except Exception as err:  # RDKit raises several sanitization exception types
                errors.append((rec_no, ident, "", f"RDKit sanitization failed: {_first_line(err)}"))
                continue
            records.append((rec_no, ident, Chem.MolToSmiles(mol)))
    return records


def _refuse_duplicates(path: str | Path, rows_and_ids: Iterable[tuple[int, str | None]]) -> None:
    """InputError at the first compound id seen twice (ids None are made up by the reader, hence unique)."""
    seen: dict[str, int] = {}
    for row, ident in rows_and_ids:
        if ident is None:
            continue
        if ident in seen:
            raise InputError(
                f"{path}: row {row}: duplicate compound id '{ident}' (first at row {seen[ident]}); make ids unique"
            )
        seen[ident] = row


def read_compounds(path: str | Path, errors_path: str | Path | None = None, allow_empty: bool = False,
                   columns: Columns = DEFAULT_COLUMNS) -> tuple[list[str], list[str], int]:
    """Read compounds; returns (ids, smiles, n_invalid) for the valid ones, in file order (see `load_compounds`)."""
    ids, smiles, invalid = load_compounds(path, errors_path, allow_empty, columns)
    return ids, smiles, len(invalid)


def load_compounds(
    path: str | Path, errors_path: str | Path | None = None, allow_empty: bool = False,
    columns: Columns = DEFAULT_COLUMNS,
) -> tuple[list[str], list[str], list[Problem]]:
    """Read compounds; returns (ids, smiles, invalid) with invalid = [(row, id, smiles, reason), ...].

    Invalid SMILES are written to `errors_path` (TSV: row, id, smiles, reason), counted and skipped. Duplicate ids
    are an InputError, and so is a file without a valid compound unless `allow_empty` (one chunk of a library,
    whose other chunks may hold the valid ones). `columns`: where the id and SMILES are (see `Columns`).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: compound file not found; check the path")
    fmt = compound_format(path)
    errors: list[Problem] = []
    if fmt == ".smi":
        records = _read_smi(path, errors, columns)
    elif fmt == ".sdf":
        records = _read_sdf(path, errors, columns)
    else:
        records = _read_table(path, "\t" if fmt == ".tsv" else ",", errors, columns)
    _refuse_duplicates(path, ((row, ident) for row, ident, _ in records))

    ids: list[str] = []
    smiles: list[str] = []
    for row, ident, smi in records:
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


def write_smi(path: str | Path, compounds: Iterable[tuple[str, str]]) -> Path:
    """Write (id, SMILES) pairs as a `.smi` file (SMILES, tab, id), atomically."""
    with atomic_open(path) as handle:
        for compound_id, smiles in compounds:
            handle.write(f"{smiles}\t{compound_id}\n")
    return Path(path)


# ----------------------------------------------------------------------------------------------------------------
# The same files as text records (for splitting a library without parsing its molecules)


@dataclass(frozen=True)
class LibraryText:
    """A compound file as text: `header` lines (a table's header, repeated atop each part), `records[j]` the text
    of one compound and `rows[j]` its row as `load_compounds` reports it (.smi: its file line, blank and `#` lines
    kept with the record that follows them; tables: non-blank lines, header = 1; .sdf: the record number)."""

    format: str
    header: list[str]
    records: list[str]
    rows: list[int]

    def ids(self, path: str | Path = "", columns: Columns = DEFAULT_COLUMNS) -> list[str | None]:
        """Each record's compound id as `load_compounds` takes it (None where it makes one up or fails); `path`
        names the file in the InputError of `columns` that do not fit it."""
        if self.format == ".smi":
            _, id_at = columns.smi_fields(path)
            fields = (_smi_fields(record.rstrip("\n").rsplit("\n", 1)[-1]) or [] for record in self.records)
            return [f[id_at] if len(f) > id_at else None for f in fields]
        if self.format == ".sdf":
            properties = columns.sdf_id_properties(path)
            return [_sdf_text_id(record, properties) for record in self.records]
        delimiter = "\t" if self.format == ".tsv" else ","
        names = next(csv.reader(self.header, delimiter=delimiter))
        id_col = columns.table_column(path, names, "id")
        if id_col is None:
            return [None] * len(self.records)
        k = names.index(id_col)
        return [(row[k].strip() if len(row) > k else None) for row in csv.reader(self.records, delimiter=delimiter)]

    def check_unique_ids(self, path: str | Path, columns: Columns = DEFAULT_COLUMNS) -> None:
        """The InputError `load_compounds` raises for a duplicate id, for the whole file before it is split."""
        _refuse_duplicates(path, zip(self.rows, self.ids(path, columns)))


def _sdf_text_id(record: str, properties: tuple[str, ...] = ID_COLUMNS) -> str | None:
    lines = record.splitlines()
    props = {m.group(1): lines[i + 1].strip() for i, line in enumerate(lines[:-1]) if (m := _SDF_PROP.match(line))}
    return next((props[p] for p in properties if p in props), None) or lines[0].strip() or None


def read_library_text(path: str | Path) -> LibraryText:
    """A compound file's records as text (see `LibraryText`); no molecule is parsed."""
    fmt = compound_format(path)
    with open_text(path) as handle:
        text = handle.read()
    if fmt == ".sdf":
        blocks, current = [], []
        for line in text.splitlines(keepends=True):
            current.append(line)
            if line.strip() == "$$$$":
                blocks.append("".join(current))
                current = []
        if "".join(current).strip():
            blocks.append("".join(current) + "\n$$$$\n")
        return LibraryText(fmt, [], blocks, list(range(1, len(blocks) + 1)))
    if fmt in (".tsv", ".csv"):
        lines = [line if line.endswith("\n") else line + "\n" for line in text.splitlines() if line.strip()]
        if not lines:
            raise InputError(f"{path}: empty compound table; it needs a header with a smiles column")
        return LibraryText(fmt, lines[:1], lines[1:], list(range(2, len(lines) + 1)))
    records, rows, pending = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        pending.append(line + "\n")
        if _smi_fields(line) is not None:
            records.append("".join(pending))
            rows.append(number)
            pending = []
    return LibraryText(fmt, [], records, rows)
