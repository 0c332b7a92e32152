"""The library behind the workflow: demo data, config validation, shards, compound chunks, gathers, the report."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pysam
import pytest

from genoscreen.common.errors import InputError
from genoscreen.demo import DemoSpec, generate
from genoscreen.demo.compounds import KINASE_INHIBITORS
from genoscreen.workflow.chunks import split_library
from genoscreen.workflow.config import load, make_shards
from genoscreen.workflow.gather import concat_vcfs, merge_hits

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "workflow" / "schemas"
SMALL = DemoSpec(contigs=(("c1", 6000), ("c2", 4000)), samples=("s1",), coverage=12)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, generate(out, SMALL)


def _digest(path: Path) -> str:
    if path.suffix == ".bam":  # compare records, not the BGZF bytes
        with pysam.AlignmentFile(str(path)) as bam:
            return hashlib.sha256("".join(r.to_string() for r in bam).encode()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_demo_is_deterministic_and_consistent(demo, tmp_path):
    out, summary = demo
    again = generate(tmp_path, SMALL)
    assert again["samples"] == summary["samples"]
    for key, path in SMALL.paths(out).items():
        assert path.exists(), key
        if not key.endswith((".bai", ".tbi")):
            assert _digest(path) == _digest(SMALL.paths(tmp_path)[key]), key
    counts = summary["samples"]["s1"]
    assert counts["snps"] > 10 and counts["indels"] > 3 and 0 < counts["hom_alt"] < counts["snps"] + counts["indels"]
    with pysam.VariantFile(str(out / "s1.truth.vcf.gz")) as vcf:
        records = list(vcf)
    assert len(records) == counts["snps"] + counts["indels"]
    with pysam.AlignmentFile(str(out / "s1.bam")) as bam:
        assert bam.header["RG"][0]["SM"] == "s1"
        assert bam.mapped == counts["aligned_reads"]
        assert bam.check_index()


def test_demo_gene_and_its_gatekeeper_mutation(demo, tmp_path):
    """The demo's kinase gene: its annotation translates to its protein, and the first sample's truth holds the one
    gatekeeper change in it, which `genoscreen consequences` names p.Thr90Ile (every simulated coding variant of the
    demo gets its HGVS p.)."""
    import pandas as pd

    from genoscreen.affinity.io.proteins import read_targets
    from genoscreen.consequences.proteins import consequences
    from genoscreen.demo.genome import GATEKEEPER_CODON, GENE

    out, _ = demo
    protein = read_targets(out / "kinase_targets.fasta")[GENE]
    assert protein[0] == "M" and protein[GATEKEEPER_CODON - 1] == "T"
    counts = consequences(out / "s1.truth.vcf.gz", out / "genome.fa", out / "genes.gff3", tmp_path / "p.tsv",
                          fasta_out=tmp_path / "m.fasta")
    table = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    assert table[["gene", "hgvs_p", "consequence"]].values.tolist() == [[GENE, f"p.Thr{GATEKEEPER_CODON}Ile",
                                                                         "missense"]]
    mutant = read_targets(tmp_path / "m.fasta")[f"{GENE}:p.Thr{GATEKEEPER_CODON}Ile"]
    assert mutant == protein[: GATEKEEPER_CODON - 1] + "I" + protein[GATEKEEPER_CODON:]
    with pysam.VariantFile(str(out / "s1.truth.vcf.gz")) as vcf:
        alleles = sum(sum(1 for a in r.samples[0]["GT"] if a) for r in vcf)  # phased: a 1|1 allele on both sides
    assert counts["skipped"] == alleles - 1  # every other truth allele lies outside the gene


def test_demo_reads_carry_the_truth(demo):
    """Every truth SNP is seen in the reads at about the genotype's allele fraction."""
    out, _ = demo
    ref = pysam.FastaFile(str(out / "genome.fa"))
    with pysam.VariantFile(str(out / "s1.truth.vcf.gz")) as vcf, pysam.AlignmentFile(str(out / "s1.bam")) as bam:
        for rec in vcf:
            if len(rec.ref) != 1 or len(rec.alts[0]) != 1:
                continue
            assert ref.fetch(rec.contig, rec.start, rec.stop) == rec.ref
            counts = bam.count_coverage(rec.contig, rec.start, rec.stop, quality_threshold=0)
            depth = sum(c[0] for c in counts)
            alt = counts["ACGT".index(rec.alts[0])][0]
            expected = sum(rec.samples["s1"]["GT"]) / 2
            assert depth > 3
            assert abs(alt / depth - expected) < 0.45, (rec.contig, rec.pos, alt, depth)


def test_demo_compounds_parse():
    from rdkit import Chem

    assert len(KINASE_INHIBITORS) >= 8
    for name, smiles in KINASE_INHIBITORS:
        assert Chem.MolFromSmiles(smiles) is not None, name


def _config(tmp_path: Path, **over) -> dict:
    models = tmp_path / "models"
    (models / "caller").mkdir(parents=True, exist_ok=True)
    (models / "dta").mkdir(parents=True, exist_ok=True)
    (tmp_path / "samples.tsv").write_text("sample\tbam\ttruth\tconfident_bed\na\tdemo/a.bam\t\t\n")
    config = {
        "samples": str(tmp_path / "samples.tsv"),
        "reference": "demo/genome.fa",
        "demo": {"dir": "demo"},
        "variants": {"model": str(models / "caller"), "shard_size": 7000},
        "screening": {"model": str(models / "dta"), "panel": "davis", "libraries": {"lib": "demo/x.smi"}},
    }
    config.update(over)
    return config


def test_config_defaults_and_shards(tmp_path):
    config = _config(tmp_path)
    plan = load(config, SCHEMAS)
    assert config["screening"]["top_k"] == 100 and config["screening"]["chunks"] == 1  # defaults filled
    assert config["resources"]["make_examples"]["threads"] == 1
    assert config["results_dir"] == "results"
    lengths = dict(DemoSpec().contigs)
    assert [s.region for s in plan.shards][:2] == ["demo1:1-7000", "demo1:7001-14000"]
    assert sum(s.end - s.start for s in plan.shards) == sum(lengths.values())
    assert list(plan.samples) == ["a"]


def test_shipped_model_names_resolve_to_their_folders(tmp_path):
    """`model: caller-wgs-illumina` (the demo config's form) names a shipped model wherever the package is installed;
    a folder stays as given."""
    from genoscreen.common.resources import model_dir

    config = _config(tmp_path)
    config["variants"]["model"], config["screening"]["model"] = "caller-wgs-illumina", "dta-davis"
    load(config, SCHEMAS)
    assert Path(config["variants"]["model"]) == model_dir("caller-wgs-illumina")
    assert Path(config["screening"]["model"]) == model_dir("dta-davis")
    folder = str(model_dir("dta-davis"))
    config = _config(tmp_path)
    config["screening"]["model"] = folder
    load(config, SCHEMAS)
    assert config["screening"]["model"] == folder


def test_shards_of_explicit_regions():
    shards = make_shards(["chr20:10000001-10045000"], {"chr20": 63_025_520}, 15000)
    assert [s.region for s in shards] == ["chr20:10000001-10015000", "chr20:10015001-10030000", "chr20:10030001-10045000"]
    with pytest.raises(InputError, match="variants.regions: .*past the end"):
        make_shards(["chr20:1-100"], {"chr20": 50}, 1000)
    with pytest.raises(InputError, match="variants.regions: .*not in the reference"):
        make_shards(["20:1-100"], {"chr20": 500}, 1000)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c, t: c["variants"].update(shard_size="big"), r"variants\.shard_size: 'big' is not of type 'integer'"),
        (lambda c, t: c.update(unknown_key=1), "Additional properties are not allowed"),
        (lambda c, t: c.update(reference="nowhere/genome.fa"), "config: reference: nowhere/genome.fa does not exist"),
        (lambda c, t: c["variants"].update(model=str(t / "no-model")), "variants.model: .*no-model does not exist"),
        (lambda c, t: c["screening"].update(panel=None), "give exactly one of `panel`"),
        (lambda c, t: c.update(results_dir="out/{sample}"), r"results_dir: 'out/\{sample\}' does not match"),
        (lambda c, t: (t / "samples.tsv").write_text("sample\tbam\na\tmissing.bam\n"), r"sample 'a': bam: missing.bam does not exist"),
        (lambda c, t: (t / "samples.tsv").write_text("sample\tbam\na b\tdemo/a.bam\n"), r"row 2: sample: 'a b' does not match"),
        (lambda c, t: (t / "samples.tsv").write_text("sample\tbam\na\tdemo/a.bam\na\tdemo/a.bam\n"), "duplicate sample 'a'"),
        (lambda c, t: (t / "samples.tsv").write_text("sample\tbai\na\tdemo/a.bam\n"), r"unknown column\(s\) \['bai'\]"),
        (lambda c, t: ((t / "noindex.bam").write_bytes(b"x"),
                       (t / "samples.tsv").write_text(f"sample\tbam\na\t{t}/noindex.bam\n")),
         r"sample 'a': .*noindex.bam has no index .*index it before the run: `samtools index .*noindex.bam`"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path, change, message):
    config = _config(tmp_path)
    change(config, tmp_path)
    with pytest.raises(InputError, match=message) as err:
        load(config, SCHEMAS)
    assert "\n" not in str(err.value)


def test_split_and_merge_keep_exact_top_k(tmp_path):
    lib = tmp_path / "lib.tsv"
    lib.write_text("compound_id\tsmiles\n" + "".join(f"m{i}\tC{'C' * i}O\n" for i in range(10)))
    outs = [tmp_path / f"chunk{i}.tsv" for i in range(3)]
    assert split_library(lib, outs, tmp_path / "index.json") == [3, 4, 3]
    assert all(o.read_text().startswith("compound_id\tsmiles\n") for o in outs)
    assert json.loads((tmp_path / "index.json").read_text())["first_record"] == [0, 3, 7]
    hits = []
    for i, out in enumerate(outs):  # fake per-chunk screen output: score = compound number
        ids = [line.split("\t")[0] for line in out.read_text().splitlines()[1:]]
        rows = [(c, t, float(c[1:]) * (1 if t == "T1" else -1)) for t in ("T1", "T2") for c in ids]
        path = tmp_path / f"chunk{i}.hits.tsv"
        path.write_text("compound_id\ttarget_id\tprediction\trank\n" + "".join(f"{c}\t{t}\t{p}\t0\n" for c, t, p in rows))
        hits.append(path)
    (tmp_path / "chunk1.hits.tsv.errors.tsv").write_text("row\tcompound_id\treason\n2\tm4\tbad SMILES\n")
    merged = tmp_path / "merged.tsv"
    assert merge_hits(hits, merged, top_k=2, errors_out=tmp_path / "errors.tsv") == 4
    lines = [line.split("\t") for line in merged.read_text().splitlines()]
    assert lines[0] == ["compound_id", "target_id", "prediction", "rank"]
    assert [(l[0], l[1], l[3]) for l in lines[1:]] == [("m9", "T1", "1"), ("m8", "T1", "2"), ("m0", "T2", "1"), ("m1", "T2", "2")]
    assert (tmp_path / "errors.tsv").read_text().splitlines()[1] == "chunk1\t2\tm4\tbad SMILES"
    header = "kind\tid\tlength\tmax_length\n"
    (tmp_path / "chunk0.hits.tsv.truncated.tsv").write_text(header + "compound\tm1\t90\t85\ntarget\tT1\t2000\t1200\n")
    (tmp_path / "chunk2.hits.tsv.truncated.tsv").write_text(header + "compound\tm8\t99\t85\ntarget\tT1\t2000\t1200\n")
    merge_hits(hits, merged, top_k=2, truncated_out=tmp_path / "truncated.tsv")
    assert (tmp_path / "truncated.tsv").read_text() == (
        header + "compound\tm1\t90\t85\ntarget\tT1\t2000\t1200\ncompound\tm8\t99\t85\n")


def test_split_sdf_and_smi(tmp_path):
    sdf = tmp_path / "lib.sdf"
    sdf.write_text("".join(f"m{i}\n  RDKit\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n$$$$\n" for i in range(4)))
    outs = [tmp_path / "a.sdf", tmp_path / "b.sdf"]
    assert split_library(sdf, outs) == [2, 2]
    assert outs[1].read_text().startswith("m2\n") and outs[1].read_text().count("$$$$") == 2
    smi = tmp_path / "lib.smi"
    smi.write_text("# comment\nCCO ethanol\n\nCC ethane\n")
    assert split_library(smi, [tmp_path / "a.smi"]) == [2]
    with pytest.raises(InputError, match="unknown compound file type"):
        split_library(tmp_path / "lib.xyz", [tmp_path / "a.xyz"])


def test_split_with_named_columns(tmp_path):
    """The chunker finds a library's ids where `screen` is told they are: a DeepPurpose `name SMILES` file's
    duplicate names are refused before any chunk is written; the config's columns are checked at parse time."""
    from genoscreen.affinity.io.compounds import Columns

    lib = tmp_path / "dp.smi"
    lib.write_text("ethanol CCO\nethane CC\nethanol CCCO\n")
    with pytest.raises(InputError, match="row 3: duplicate compound id 'ethanol'"):
        split_library(lib, [tmp_path / "a.smi"], columns=Columns(id="1", smiles="2"))
    assert not (tmp_path / "a.smi").exists()
    lib.write_text("ethanol CCO\nethane CC\n")
    assert split_library(lib, [tmp_path / "a.smi", tmp_path / "b.smi"], columns=Columns(id="1", smiles="2")) == [1, 1]
    config = _config(tmp_path, screening={"model": str(tmp_path / "models" / "dta"), "panel": "davis",
                                          "libraries": {"lib": str(lib)}, "id_column": "name"})
    with pytest.raises(InputError, match=r"config: screening.libraries.lib: .*dp.smi: a .smi file has no header"):
        load(config, SCHEMAS)
    config["screening"].update(id_column=0)
    with pytest.raises(InputError, match=r"config: screening: id column 0: give a column name or a field number"):
        load(config, SCHEMAS)


@pytest.mark.parametrize("fmt", [".smi", ".csv", ".sdf"])
def test_errors_of_chunks_point_at_library_rows(tmp_path, fmt):
    """Each chunk is screened alone, yet the merged errors table gives the row the compound reader reports for the
    whole library (file line for .smi, with blank and comment lines; table row; SDF record)."""
    from genoscreen.affinity.io.compounds import load_compounds

    good = ["CCO", "c1ccccc1", "CC(=O)O", "CCN", "CCCl"]
    smiles = good[:2] + ["C1CC("] + good[2:4] + ["Xyz"] + good[4:]
    lib = tmp_path / f"lib{fmt}"
    if fmt == ".smi":
        lib.write_text("".join(f"# block {i}\n\n{s} m{i}\n" for i, s in enumerate(smiles)))
    elif fmt == ".csv":
        lib.write_text("compound_id,smiles\n" + "".join(f"m{i},{s}\n" for i, s in enumerate(smiles)))
    else:  # unparsable SMILES stand in as unreadable molblocks
        from rdkit import Chem

        mols = [Chem.MolFromSmiles(s) for s in smiles]  # a molblock starts with its (here empty) name line
        lib.write_text("".join(f"m{i}" + (Chem.MolToMolBlock(m) if m else "\n\n\nnot a molblock\n") + "$$$$\n"
                               for i, m in enumerate(mols)))
    _, _, whole = load_compounds(lib)
    assert len(whole) == 2
    outs = [tmp_path / f"chunk{k:03d}{fmt}" for k in range(3)]
    split_library(lib, outs, tmp_path / "chunks.json")
    hits = []
    for out in outs:
        hits_path = tmp_path / f"{out.name}.hits.tsv"
        load_compounds(out, f"{hits_path}.errors.tsv", allow_empty=True)
        hits_path.write_text("compound_id\ttarget_id\tprediction\trank\n")
        hits.append(hits_path)
    merge_hits(hits, tmp_path / "merged.tsv", errors_out=tmp_path / "errors.tsv", index=tmp_path / "chunks.json")
    merged = [line.split("\t") for line in (tmp_path / "errors.tsv").read_text().splitlines()[1:]]
    assert [int(row[1]) for row in merged] == [row for row, *_ in whole]
    with pytest.raises(InputError, match="lists 3 chunks but 2 hits tables"):
        merge_hits(hits[:2], tmp_path / "m2.tsv", errors_out=tmp_path / "e2.tsv", index=tmp_path / "chunks.json")
    assert not (tmp_path / "m2.tsv").exists()


def _vcf(path: Path, records: list[tuple[str, int, str, str]], sample: str = "s") -> Path:
    lines = ["##fileformat=VCFv4.2", "##contig=<ID=c1,length=1000>", "##contig=<ID=c2,length=1000>",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}"]
    lines += [f"{c}\t{p}\t.\t{r}\t{a}\t30\tPASS\t.\tGT\t0/1" for c, p, r, a in records]
    plain = path.with_suffix("")
    plain.write_text("\n".join(lines) + "\n")
    pysam.tabix_compress(str(plain), str(path), force=True)
    return path


def test_concat_vcfs_sorts_dedups_and_indexes(tmp_path):
    a = _vcf(tmp_path / "a.vcf.gz", [("c1", 10, "A", "G"), ("c1", 500, "C", "T")])
    b = _vcf(tmp_path / "b.vcf.gz", [("c1", 500, "C", "T"), ("c2", 5, "G", "GA")])
    out = tmp_path / "all.vcf.gz"
    assert concat_vcfs([b, a], out) == 3
    with pysam.VariantFile(str(out)) as vcf:
        assert [(r.contig, r.pos) for r in vcf] == [("c1", 10), ("c1", 500), ("c2", 5)]
        assert [r.pos for r in vcf.fetch("c2")] == [5]
    c = _vcf(tmp_path / "c.vcf.gz", [], sample="other")
    with pytest.raises(InputError, match="samples"):
        concat_vcfs([a, c], tmp_path / "bad.vcf.gz")
    unsorted = _vcf(tmp_path / "u.vcf.gz", [("c1", 500, "C", "T"), ("c1", 10, "A", "G")])
    with pytest.raises(InputError, match="must be sorted"):
        concat_vcfs([a, unsorted], tmp_path / "bad.vcf.gz")
    assert not (tmp_path / "bad.vcf.gz").exists()


def test_report_html(tmp_path):
    from genoscreen.report import accuracy_lines, build_report

    vcf = _vcf(tmp_path / "a.vcf.gz", [("c1", 10, "A", "G"), ("c2", 5, "G", "GA")])
    evaluation = tmp_path / "a.json"
    evaluation.write_text(json.dumps({"SNP": {"tp": 9, "fp": 1, "fn": 0, "precision": 0.9, "recall": 1.0, "f1": 0.947},
                                      "INDEL": {"TP": 3, "FP": 0, "FN": 1, "Precision": 1.0, "Recall": 0.75, "F1": 0.857}}))
    hits = tmp_path / "hits.tsv"
    hits.write_text("compound_id\ttarget_id\tprediction\trank\n" + "".join(
        f"d{i}\tK{k}\t{5 + (i * k) % 7 / 2:.2f}\t{i + 1}\n" for k in range(5) for i in range(6)))
    out = build_report(tmp_path / "report.html", vcfs={"a": vcf}, evaluations={"a": evaluation}, hits={"lib": hits},
                       about={"caller model": "m/caller"})
    text = out.read_text()
    assert "m/caller" in text
    assert "Accuracy against the truth" in text and "0.9470" in text and "Top 10 compounds" in text
    assert text.count("<img") == 4  # calls, F1, QC, screening
    assert "Call QC" in text and "Ti/Tv" in text
    from genoscreen.variants.tools.bcftools import stats

    qc = stats(vcf)  # one transition, one 1 bp insertion
    assert (qc["snps"], qc["indels"], qc["ts"], qc["tv"], qc["indel_lengths"]) == (1, 1, 1, 0, {1: 1})
    assert accuracy_lines({"a": evaluation})[1].startswith("a INDEL precision 1.0000 recall 0.7500 F1 0.8570")
    evaluation.write_text("{}")
    with pytest.raises(InputError, match="no SNP/INDEL metrics"):
        build_report(tmp_path / "r2.html", evaluations={"a": evaluation})
    assert not (tmp_path / "r2.html").exists()


def test_report_provenance_and_compounds_screened(tmp_path, capsys):
    """The report names the genoscreen version, the date, the command, each model with its weights' digest, and
    how many compounds were screened (library records minus the invalid ones), not just those in the top-K hits."""
    import hashlib

    from genoscreen import __version__
    from genoscreen.cli import main

    model = tmp_path / "dta"
    model.mkdir()
    (model / "weights.safetensors").write_bytes(b"weights")
    library = tmp_path / "lib.smi"
    library.write_text("".join(f"C{'C' * i}O d{i}\n" for i in range(40)) + "C1CC( bad\n")
    errors = tmp_path / "lib.errors.tsv"
    errors.write_text("chunk\trow\tid\tsmiles\treason\nchunk000\t41\tbad\tC1CC(\tRDKit cannot parse the SMILES\n")
    hits = tmp_path / "hits.tsv"
    hits.write_text("compound_id\ttarget_id\tprediction\trank\n" + "".join(
        f"d{i}\tK{k}\t{5 + i / 10:.2f}\t{i + 1}\n" for k in range(3) for i in range(5)))
    out = tmp_path / "report.html"
    assert main(["report", "--hits", f"lib={hits}", "--library", f"lib={library}", "--compound-errors",
                 f"lib={errors}", "--used-model", f"affinity={model}", "--out", str(out)]) == 0
    text = out.read_text()
    digest = hashlib.sha256(b"weights").hexdigest()[:12]
    assert f"{model} (weights.safetensors sha256:{digest})" in text and f"<td class=\"l\">{__version__}</td>" in text
    assert " UTC</td>" in text and "genoscreen report --hits lib=" in text
    assert "40 compounds screened (41 in" in text and "1 invalid and skipped) × 3 targets" in text
    # the strongest compounds drawn (d4 best, at 5.40 on its first target), labelled with their best target
    assert text.count("<svg") == 1
    assert '<td class="l">d4</td><td class="l">K0</td><td class="l">CCCCCO</td><td class="">5.4000</td>' in text
    capsys.readouterr()
    assert main(["report", "--hits", f"lib={hits}", "--used-model", f"caller={tmp_path}", "--out",
                 str(tmp_path / "r2.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("genoscreen report: error:") and "no weights.safetensors;" in err  # (--command's dest)
    assert not (tmp_path / "r2.html").exists()


@pytest.mark.parametrize("name", ["config.yaml", "dev.yaml", "training.yaml", "wgs.example.yaml"])
def test_shipped_configs_follow_the_schema(name):
    """Every config in config/ validates (paths aside); training.yaml is used on top of config.yaml."""
    import yaml

    from genoscreen.workflow.config import validate

    config = yaml.safe_load((ROOT / "config" / name).read_text())
    if name == "training.yaml":
        config = {**yaml.safe_load((ROOT / "config" / "config.yaml").read_text()), **config}
    validate(config, SCHEMAS / "config.schema.yaml", name)
    assert config["variants"]["shard_size"] >= 1000


def test_merge_hits_keeps_ids_that_look_like_missing_values(tmp_path):
    """Compound ids such as NA, null or N/A are names: merge-hits must not turn them into blanks."""
    import pandas as pd

    chunks = []
    for i, ids in enumerate((["NA", "null"], ["N/A", "m3"])):
        path = tmp_path / f"chunk{i}.hits.tsv"
        path.write_text("compound_id\ttarget_id\tprediction\trank\n"
                        + "".join(f"{c}\tNA\t{5 + j + 2 * i}.0\t{j + 1}\n" for j, c in enumerate(ids)))
        chunks.append(path)
    merged = tmp_path / "merged.tsv"
    assert merge_hits(chunks, merged) == 4
    table = pd.read_csv(merged, sep="\t", keep_default_na=False)
    assert table["compound_id"].tolist() == ["m3", "N/A", "null", "NA"] and set(table["target_id"]) == {"NA"}


@pytest.mark.parametrize("fmt", [".smi", ".tsv", ".sdf"])
def test_split_refuses_duplicate_ids_as_screen_does(tmp_path, fmt):
    """Two chunks would each accept their copy of a duplicated id; the split refuses it with the reader's rows."""
    from genoscreen.affinity.io.compounds import load_compounds

    names = ["a", "b", "a"]
    lib = tmp_path / f"lib{fmt}"
    if fmt == ".smi":
        lib.write_text("# header comment\n" + "".join(f"CCO {n}\n" for n in names))
    elif fmt == ".tsv":
        lib.write_text("smiles\tID\n" + "".join(f"CCO\t{n}\n" for n in names))
    else:
        lib.write_text("".join(f"x{i}\n  RDKit\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n>  <compound_id>\n{n}\n\n$$$$\n"
                               for i, n in enumerate(names)))
    with pytest.raises(InputError) as whole:
        load_compounds(lib)
    with pytest.raises(InputError) as split:
        split_library(lib, [tmp_path / f"a{fmt}", tmp_path / f"b{fmt}"])
    assert str(split.value) == str(whole.value) and "duplicate compound id 'a'" in str(split.value)
    assert not (tmp_path / f"a{fmt}").exists()


def test_shipped_caller_training_table_reads():
    """config/caller_training.tsv: every row valid, depths below what is simulated, test rows never trained on."""
    import yaml

    from genoscreen.workflow.config import read_training_data

    training = yaml.safe_load((ROOT / "config" / "training.yaml").read_text())["training"]["caller"]
    real_sets = {s["name"]: s for s in training["real_sets"]}
    rows = read_training_data(ROOT / training["data"], SCHEMAS / "caller_training.schema.yaml", real_sets)
    by_split = {split: [r for r in rows if r.split == split] for split in ("train", "val", "test")}
    assert all(by_split.values())
    depths = [float(d) for r in by_split["train"] for d in r.depths if d != "full"]
    assert min(depths) <= 4 and max(r.depth or 0 for r in rows) >= 120
    assert {r.profile for r in by_split["train"] if r.profile} >= {"HS20", "HS25", "HSXt", "MSv3", "NS50"}
    assert {r.read_length for r in by_split["train"] if r.read_length} >= {75, 100, 150, 250}
    assert {r.quality_binning for r in by_split["train"]} == {"none", "novaseq"}
    assert any(r.duplicates > 0 for r in by_split["train"])
    # the titration's held-out reads are never trained on: the other lab's run, and the first half of NA12878's
    assert all(r.source != "hg001_2x151" for r in by_split["train"] + by_split["val"])
    dev = [r for r in by_split["train"] if r.source == "na12878_2x101"]
    assert dev and all(int(r.regions.split(":")[1].split("-")[0]) > 10_022_500 for r in dev)
    assert dev[0].folders[-1] == f"{dev[0].name}.full" and dev[0].folders[0] == f"{dev[0].name}.5x"


@pytest.mark.parametrize("row, message", [
    ("a\ttrain\tsim\tchr1:1-100\t30\t5,full\tHS25\t150", "row 2"),  # fine: a control
    ("a\ttrain\tsim\tchr1:1-100\t30\t5,40\tHS25\t150", "must lie below the simulated depth"),
    ("a\ttrain\tsim\tchr1:1-100\t\t5,full\tHS25\t150", "needs depth"),
    ("a\ttrain\treal:nope\tchr1:1-100\t\t5,full\t\t", "not in training.caller.real_sets"),
    ("a\ttrain\tsim\tchr1:1-100\t30\t5,full\tXX10\t150", "profile"),
    ("a\ttrain\tsim\tchr1:1-100\tthirty\t5,full\tHS25\t150", "depth 'thirty' is not a number"),
    ("a\tdev\tsim\tchr1:1-100\t30\t5,full\tHS25\t150", "split"),
])
def test_bad_caller_training_rows_are_one_clear_error(tmp_path, row, message):
    from genoscreen.workflow.config import read_training_data

    table = tmp_path / "t.tsv"
    table.write_text("# a comment\nname\tsplit\tsource\tregions\tdepth\tdepths\tprofile\tread_length\n" + row + "\n")
    schema = SCHEMAS / "caller_training.schema.yaml"
    if message == "row 2":
        (only,) = read_training_data(table, schema, {})
        assert only.depths == ("5", "full") and only.folders == ["a.5x", "a.full"] and only.weight == 1
        table.write_text(table.read_text() + row + "\n")
        message = "duplicate name"
    with pytest.raises(InputError, match=message):
        read_training_data(table, schema, {})


def test_learned_profile_must_be_named_in_the_config(tmp_path):
    from genoscreen.workflow.config import read_training_data

    table = tmp_path / "t.tsv"
    table.write_text("name\tsplit\tsource\tregions\tdepth\tdepths\tprofile\tread_length\n"
                     "a\ttrain\tsim\tchr1:1-100\t30\tfull\tlearned:na12878\t101\n")
    schema = SCHEMAS / "caller_training.schema.yaml"
    assert read_training_data(table, schema, {}, {"na12878": "x.bam"})[0].profile == "learned:na12878"
    with pytest.raises(InputError, match=r"row 2: profile learned:na12878 is not in training.caller.profile_bams"):
        read_training_data(table, schema, {}, {"other": "y.bam"})


def test_report_keeps_ids_that_look_like_missing_values(tmp_path):
    """The report reads hits as merge-hits does: compound and target ids "NA" and "null" stay names, not NaN."""
    from genoscreen.report import build_report

    hits = tmp_path / "hits.tsv"
    hits.write_text("compound_id\ttarget_id\tprediction\trank\nNA\tnull\t7.5\t1\nnull\tnull\t6.5\t2\nm1\tNA\t6.0\t1\n")
    text = build_report(tmp_path / "report.html", hits={"lib": hits}).read_text()
    assert "<b>null</b>" in text and "<b>NA</b>" in text
    assert '<td class="l">NA</td>' in text and '<td class="l">null</td>' in text
    assert "3 compounds × 2 targets" in text


@pytest.mark.parametrize("name", ["lib.smiles", "lib.ism.gz", "lib.sd"])
def test_split_accepts_every_extension_screen_reads(tmp_path, name):
    """One compound reader: a library `screen` reads (here .smiles, gzipped .ism, .sd) splits into chunks it reads."""
    import gzip

    from genoscreen.affinity.io.compounds import load_compounds
    from genoscreen.workflow.chunks import library_format

    lib = tmp_path / name
    if ".sd" in name:
        from rdkit import Chem

        text = "".join(f"m{i}" + Chem.MolToMolBlock(Chem.MolFromSmiles("C" * (i + 1) + "O")) + "$$$$\n" for i in range(4))
    else:
        text = "".join(f"{'C' * (i + 1)}O m{i}\n" for i in range(4))
    lib.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    fmt = library_format(lib)
    assert fmt == (".sdf" if ".sd" in name else ".smi")
    outs = [tmp_path / f"chunk{k:03d}{fmt}" for k in range(2)]
    assert split_library(lib, outs) == [2, 2]
    whole, _, _ = load_compounds(lib)
    assert [i for out in outs for i in load_compounds(out)[0]] == whole == ["m0", "m1", "m2", "m3"]


def test_report_variant_screen_section(tmp_path):
    """Per sample: the protein changes, and per mutant the compounds it is predicted to lose most (losses first)."""
    from genoscreen.affinity.io.shifts import shift_table, write_shifts
    from genoscreen.report import build_report

    proteins = tmp_path / "a.proteins.tsv"
    proteins.write_text("sample\thaplotype\tcontig\tpos\tref\talt\tgene\ttranscript\tcanonical\tconsequence\thgvs_p\t"
                        "protein_length\tmutant_id\n"
                        "a\tunphased\tc1\t1390\tC\tT\tK1\ttx\t1\tmissense\tp.Thr90Ile\t160\tK1:p.Thr90Ile\n")
    import numpy as np

    table = shift_table(["d1", "d2", "d3"], [("K1", "K1:p.Thr90Ile")], np.array([[7.0], [6.0], [5.0]]),
                        np.array([[5.5], [6.2], [5.0]]))
    write_shifts(tmp_path / "a.shifts.tsv", table)
    none = tmp_path / "b.proteins.tsv"
    none.write_text(proteins.read_text().splitlines()[0] + "\n")
    text = build_report(tmp_path / "r.html", proteins={"a": proteins, "b": none},
                        shifts=[("a", tmp_path / "a.shifts.tsv")]).read_text()
    assert "Variant-aware screening" in text and "<td class=\"l\">p.Thr90Ile</td>" in text
    assert "a carries K1:p.Thr90Ile</b>: the largest predicted loss of affinity is for d1 (delta -1.50" in text
    assert "No called variant changes a protein of the annotation." in text  # sample b
