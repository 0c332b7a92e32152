"""The Snakemake workflow's configuration: schema validation with defaults, the sample sheet, shards and chunks.

`workflow/rules/common.smk` calls `load(config, schema_dir)` at parse time, so every mistake in the config or the sample
sheet stops the run with one `InputError` line before any job starts. Kept here, not in the .smk files, so tests can
call it directly.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import re
from pathlib import Path
from typing import Any

from genoscreen.common.errors import InputError

SCHEMA_DIR = Path("workflow") / "schemas"
SAMPLE_COLUMNS = ("sample", "bam", "truth", "confident_bed")


@dataclasses.dataclass(frozen=True)
class Sample:
    name: str
    bam: str
    truth: str | None = None
    confident_bed: str | None = None


@dataclasses.dataclass(frozen=True)
class Shard:
    """One make-examples job: a piece of the genome (1-based inclusive text form, as samtools writes regions)."""

    name: str
    contig: str
    start: int  # 0-based
    end: int  # exclusive

    @property
    def region(self) -> str:
        return f"{self.contig}:{self.start + 1}-{self.end}"


def _validator(schema_path: Path):
    """A jsonschema validator that also fills in each property's `default`."""
    import jsonschema
    import yaml

    schema = yaml.safe_load(schema_path.read_text())
    base = jsonschema.Draft202012Validator

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from base.VALIDATORS["properties"](validator, properties, instance, schema)

    return jsonschema.validators.extend(base, {"properties": set_defaults})(schema)


def validate(instance: Any, schema_path: Path, what: str) -> None:
    """Validate (and fill defaults into) `instance`; raise one InputError line naming the field and the fix."""
    import jsonschema

    errors = list(_validator(schema_path).iter_errors(instance))
    if errors:
        err = jsonschema.exceptions.best_match(errors)
        field = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        raise InputError(f"{what}: {field}: {err.message}; see {schema_path} for the allowed values")


def read_samples(path: str | Path, schema_path: Path) -> list[Sample]:
    """Read the sample sheet (TSV: sample, bam, optional truth and confident_bed)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: sample sheet not found; set `samples:` in the config to a TSV with columns {', '.join(SAMPLE_COLUMNS)}")
    with open(path, newline="") as handle:
        rows = [r for r in csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")]
    if not rows:
        raise InputError(f"{path}: no samples; add rows with columns {', '.join(SAMPLE_COLUMNS)}")
    samples, seen = [], set()
    for line, row in enumerate(rows, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        unknown = set(row) - set(SAMPLE_COLUMNS)
        if unknown:
            raise InputError(f"{path}: unknown column(s) {sorted(unknown)}; allowed: {', '.join(SAMPLE_COLUMNS)}")
        record = {k: v for k, v in row.items() if v}
        validate(record, schema_path, f"{path}: row {line}")
        if record["sample"] in seen:
            raise InputError(f"{path}: row {line}: duplicate sample {record['sample']!r}; sample names must be unique")
        seen.add(record["sample"])
        if "confident_bed" in record and "truth" not in record:
            raise InputError(f"{path}: row {line}: confident_bed given without truth; add the truth VCF or drop the BED")
        samples.append(Sample(record["sample"], record["bam"], record.get("truth"), record.get("confident_bed")))
    return samples


def reference_lengths(reference: str, demo_lengths: dict[str, int] | None) -> dict[str, int] | None:
    """Contig lengths from the reference's .fai; the demo's known layout when the demo will write the reference."""
    fai = Path(f"{reference}.fai")
    if fai.exists():
        lengths = {}
        for line in fai.read_text().splitlines():
            fields = line.split("\t")
            if len(fields) >= 2:
                lengths[fields[0]] = int(fields[1])
        return lengths
    if demo_lengths is not None:
        return demo_lengths
    if not Path(reference).exists():
        raise InputError(f"config: reference: {reference} does not exist; set `reference:` to an indexed FASTA")
    raise InputError(f"config: reference: {reference} has no .fai index; run `samtools faidx {reference}` (or pysam.faidx)")


def make_shards(regions: list[str], lengths: dict[str, int] | None, shard_size: int) -> list[Shard]:
    """Cut the regions (all contigs when empty) into shards of at most `shard_size` bp, in genome order."""
    from genoscreen.variants.regions import Region, parse_regions, shard_regions

    if lengths is None:
        raise InputError("config: reference: contig lengths unknown; index the reference (samtools faidx)")
    if not regions:
        spans = [Region(contig, 0, length) for contig, length in lengths.items()]
    else:
        try:
            spans = parse_regions(",".join(regions), lengths)
        except InputError as err:
            raise InputError(f"config: variants.regions: {err}") from None
    return [Shard(f"{i:05d}", r.contig, r.start, r.end) for i, r in enumerate(shard_regions(spans, shard_size))]


def check_inputs(paths: dict[str, str | None], made_by_workflow: tuple[str, ...] = ()) -> None:
    """Every named input path must exist unless a workflow rule makes it (it lies under one of `made_by_workflow`)."""
    for what, path in paths.items():
        if path is None:
            continue
        if any(Path(path).is_relative_to(Path(prefix)) for prefix in made_by_workflow if prefix):
            continue
        if not Path(path).exists():
            raise InputError(f"{what}: {path} does not exist; fix the path (relative paths are from the working directory)")


@dataclasses.dataclass
class Plan:
    """What the workflow will do: the validated config, the samples, the shards and the screening libraries."""

    config: dict
    samples: dict[str, Sample]
    shards: list[Shard]
    libraries: dict[str, str]

    @property
    def shard_regions(self) -> dict[str, str]:
        return {s.name: s.region for s in self.shards}


def load(config: dict, schema_dir: str | Path = SCHEMA_DIR) -> Plan:
    """Validate the config (filling defaults in place) and the sample sheet, check inputs exist, cut the shards."""
    from genoscreen.demo import DemoSpec

    schema_dir = Path(schema_dir)
    validate(config, schema_dir / "config.schema.yaml", "config")
    samples = read_samples(config["samples"], schema_dir / "samples.schema.yaml")
    demo_dir = config["demo"]["dir"]
    made = ("results",) + ((demo_dir,) if demo_dir else ())  # results/models/* are made by the training rules
    inputs: dict[str, str | None] = {"config: reference": config["reference"]}
    for s in samples:
        inputs[f"{config['samples']}: sample {s.name!r}: bam"] = s.bam
        inputs[f"{config['samples']}: sample {s.name!r}: truth"] = s.truth
        inputs[f"{config['samples']}: sample {s.name!r}: confident_bed"] = s.confident_bed
    screening = config["screening"]
    libraries = dict(screening["libraries"])
    if libraries and bool(screening["panel"]) == bool(screening["targets"]):
        raise InputError("config: screening: give exactly one of `panel` (a panel the model carries, e.g. davis) or `targets` (a protein FASTA)")
    for name, path in libraries.items():
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise InputError(f"config: screening.libraries: name {name!r} must be letters, digits, '_', '-' or '.'; it names the output file")
        inputs[f"config: screening.libraries.{name}"] = path
    inputs["config: screening.targets"] = screening.get("targets")
    if libraries:
        inputs["config: screening.model"] = screening["model"]
    if samples:
        inputs["config: variants.model"] = config["variants"]["model"]
    check_inputs(inputs, made)
    demo_lengths = None
    if demo_dir and Path(config["reference"]).is_relative_to(Path(demo_dir)):
        demo_lengths = dict(DemoSpec(seed=config["demo"]["seed"]).contigs)
    lengths = reference_lengths(config["reference"], demo_lengths) if samples else None
    shards = make_shards(config["variants"]["regions"], lengths, config["variants"]["shard_size"]) if samples else []
    return Plan(config, {s.name: s for s in samples}, shards, libraries)
