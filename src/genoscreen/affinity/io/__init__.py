"""The affinity side's file formats, one module each, reading and writing:

- `compounds`: compound libraries (.smi/.smiles/.ism, .tsv, .csv, .sdf/.sd/.mol, optionally gzipped) and the
  invalid-compound errors table; also their text records, which the workflow chunker splits.
- `proteins`: protein FASTA.
- `pairs`: drug–target pairs tables (with optional label and fold) and `affinity predict`'s predictions table.
- `hits`: `genoscreen screen`'s hits table (TSV or Parquet).
- `shifts`: `genoscreen screen --mutants`' table of predicted affinity changes, wild type to mutant.
- `truncations`: the table of inputs longer than the model reads (kept, cut, named per record).
"""
