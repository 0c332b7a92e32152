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


def _read_rows(path: Path, columns: tuple[str, ...], what: str, schema_path: Path, numbers: tuple[str, ...] = ()):
    """(line, record) of each row of a tab-separated table ('#' lines are comments): empty cells dropped, the
    `numbers` columns parsed, each record validated against `schema_path` (defaults filled in)."""
    if not path.exists():
        raise InputError(f"{path}: {what} not found; write a TSV with columns {', '.join(columns)}")
    with open(path, newline="") as handle:
        rows = [r for r in csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")]
    if not rows:
        raise InputError(f"{path}: no rows; add rows with columns {', '.join(columns)}")
    for line, row in enumerate(rows, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        unknown = set(row) - set(columns)
        if unknown:
            raise InputError(f"{path}: unknown column(s) {sorted(unknown)}; allowed: {', '.join(columns)}")
        record = {k: v for k, v in row.items() if v}
        for key in numbers:
            if key in record:
                try:
                    record[key] = int(record[key]) if re.fullmatch(r"-?\d+", record[key]) else float(record[key])
                except ValueError:
                    raise InputError(f"{path}: row {line}: {key} {record[key]!r} is not a number") from None
        validate(record, schema_path, f"{path}: row {line}")
        yield line, record


def read_samples(path: str | Path, schema_path: Path) -> list[Sample]:
    """Read the sample sheet (TSV: sample, bam, optional truth and confident_bed)."""
    path = Path(path)
    samples, seen = [], set()
    for line, record in _read_rows(path, SAMPLE_COLUMNS, "sample sheet (`samples:` in the config)", schema_path):
        if record["sample"] in seen:
            raise InputError(f"{path}: row {line}: duplicate sample {record['sample']!r}; sample names must be unique")
        seen.add(record["sample"])
        if "confident_bed" in record and "truth" not in record:
            raise InputError(f"{path}: row {line}: confident_bed given without truth; add the truth VCF or drop the BED")
        samples.append(Sample(record["sample"], record["bam"], record.get("truth"), record.get("confident_bed")))
    return samples


TRAINING_COLUMNS = ("name", "split", "source", "regions", "depth", "depths", "profile", "read_length", "fragment_mean",
                    "fragment_sd", "quality_binning", "duplicates", "artifacts", "seed", "weight")


@dataclasses.dataclass(frozen=True)
class TrainingBam:
    """One row of the caller's training-data table: a BAM and the depths it enters training at."""

    name: str
    split: str
    source: str  # "sim" or a real set's name
    regions: str
    depths: tuple[str, ...]  # "full" or a depth as written ("7.5")
    depth: float | None = None
    profile: str | None = None
    read_length: int | None = None
    fragment_mean: int = 400
    fragment_sd: int = 50
    quality_binning: str = "none"
    duplicates: float = 0.0
    artifacts: float = 0.0
    seed: int = 0
    weight: int = 1

    @property
    def folders(self) -> list[str]:
        """Examples folder names, one per depth: NAME.full or NAME.<depth>x."""
        return [f"{self.name}.{d}" if d == "full" else f"{self.name}.{d}x" for d in self.depths]


def read_training_data(path: str | Path, schema_path: Path, real_sets: dict,
                       profile_bams: dict | None = None) -> list[TrainingBam]:
    """Read the caller's training-data table (see workflow/schemas/caller_training.schema.yaml); `real_sets` and
    `profile_bams` (when given) are the config's names that `source real:NAME` and `profile learned:NAME` refer to."""
    path = Path(path)
    rows, seen = [], set()
    numbers = ("depth", "read_length", "fragment_mean", "fragment_sd", "duplicates", "artifacts", "seed", "weight")
    for line, rec in _read_rows(path, TRAINING_COLUMNS, "caller training table (`training.caller.data`)",
                                schema_path, numbers):
        if rec["name"] in seen:
            raise InputError(f"{path}: row {line}: duplicate name {rec['name']!r}; names must be unique")
        seen.add(rec["name"])
        source = rec["source"]
        if source == "sim":
            missing = [k for k in ("depth", "profile", "read_length") if k not in rec]
            if missing:
                raise InputError(f"{path}: row {line}: a simulated BAM needs {', '.join(missing)}")
            learned = rec["profile"].split(":", 1)[1] if rec["profile"].startswith("learned:") else None
            if learned is not None and profile_bams is not None and learned not in profile_bams:
                raise InputError(f"{path}: row {line}: profile learned:{learned} is not in "
                                 f"training.caller.profile_bams ({', '.join(profile_bams) or 'none'}); add it there")
        else:
            source = source.split(":", 1)[1]
            if source not in real_sets:
                raise InputError(f"{path}: row {line}: source real:{source} is not in training.caller.real_sets "
                                 f"({', '.join(real_sets) or 'none'}); add it there")
        depths = tuple(rec["depths"].split(","))
        if len(set(depths)) != len(depths):
            raise InputError(f"{path}: row {line}: depths {rec['depths']!r} repeat a depth")
        if "depth" in rec and any(d != "full" and float(d) >= rec["depth"] for d in depths):
            raise InputError(f"{path}: row {line}: depths {rec['depths']!r} must lie below the simulated depth "
                             f"{rec['depth']} (write 'full' for the BAM as simulated)")
        rows.append(TrainingBam(**{**rec, "source": source, "depths": depths}))
    return rows


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
    from genoscreen.affinity.io.compounds import Columns, compound_format
    from genoscreen.common.resources import find_model
    from genoscreen.demo import DemoSpec
    from genoscreen.variants.regions import parse_regions

    schema_dir = Path(schema_dir)
    validate(config, schema_dir / "config.schema.yaml", "config")
    for section in ("variants", "screening"):  # a shipped model's name -> its folder (installed package or checkout)
        config[section]["model"] = str(find_model(config[section]["model"]))
    samples = read_samples(config["samples"], schema_dir / "samples.schema.yaml")
    demo_dir = config["demo"]["dir"]
    # results/models/* are made by the training rules
    made = ("results", config["results_dir"]) + ((demo_dir,) if demo_dir else ())
    inputs: dict[str, str | None] = {"config: reference": config["reference"]}
    for s in samples:
        inputs[f"{config['samples']}: sample {s.name!r}: bam"] = s.bam
        inputs[f"{config['samples']}: sample {s.name!r}: truth"] = s.truth
        inputs[f"{config['samples']}: sample {s.name!r}: confident_bed"] = s.confident_bed
    screening = config["screening"]
    libraries = dict(screening["libraries"])
    if libraries and bool(screening["panel"]) == bool(screening["targets"]):
        raise InputError("config: screening: give exactly one of `panel` (a panel the model carries, e.g. davis) or `targets` (a protein FASTA)")
    try:
        columns = Columns(id=screening["id_column"], smiles=screening["smiles_column"])
    except InputError as err:
        raise InputError(f"config: screening: {err}") from None
    for name, path in libraries.items():
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise InputError(f"config: screening.libraries: name {name!r} must be letters, digits, '_', '-' or '.'; it names the output file")
        inputs[f"config: screening.libraries.{name}"] = path
        fmt = compound_format(path)
        if fmt == ".smi":  # columns that cannot fit the library's format stop the run here, not in its jobs
            columns.smi_fields(f"config: screening.libraries.{name}: {path}")
        elif fmt == ".sdf":
            columns.sdf_id_properties(f"config: screening.libraries.{name}: {path}")
    inputs["config: screening.targets"] = screening.get("targets")
    variant_screen = config["variant_screen"]
    if variant_screen["annotation"]:
        if not variant_screen["targets"]:
            raise InputError("config: variant_screen: `annotation` needs `targets`, a protein FASTA of the wild types "
                             "(named by gene) that the mutants are compared with")
        inputs["config: variant_screen.annotation"] = variant_screen["annotation"]
        inputs["config: variant_screen.targets"] = variant_screen["targets"]
    inputs["config: explain.targets"] = config["explain"]["targets"]
    if libraries:
        inputs["config: screening.model"] = screening["model"]
    if samples:
        inputs["config: variants.model"] = config["variants"]["model"]
    check_inputs(inputs, made)
    from genoscreen.variants.reads import has_index, index_fix

    for s in samples:  # one index before any job: every shard job of the sample would otherwise index the BAM at once
        if Path(s.bam).exists() and not has_index(s.bam):
            raise InputError(f"{config['samples']}: sample {s.name!r}: {s.bam} has no index (.bai/.crai/.csi); index "
                             f"it before the run: {index_fix(s.bam)}")
    demo_lengths = None
    if demo_dir and Path(config["reference"]).is_relative_to(Path(demo_dir)):
        demo_lengths = dict(DemoSpec(seed=config["demo"]["seed"]).contigs)
    lengths = reference_lengths(config["reference"], demo_lengths) if samples else None
    shards = make_shards(config["variants"]["regions"], lengths, config["variants"]["shard_size"]) if samples else []
    if samples and config["explain"]["regions"]:  # a typo stops the run here, not in each sample's job
        try:
            parse_regions(",".join(config["explain"]["regions"]), lengths)
        except InputError as err:
            raise InputError(f"config: explain.regions: {err}") from None
    return Plan(config, {s.name: s for s in samples}, shards, libraries)
