# Shared helpers: config and sample-sheet validation, shard lists, config sections for params.
from snakemake.utils import validate

from atomscope._shared.sharding import shard_count, shard_span
from atomscope.config import SCHEMA_PATH as CONFIG_SCHEMA
from atomscope.io import parse_elements, read_sample_sheet
from atomscope.nets.shipped import resolve_model, resolve_monolayer_model, shipped_models  # not atomscope.nets: no torch at parse time
from atomscope.steps import FILES


validate(config, schema=str(CONFIG_SCHEMA))


def load_samples(path):
    """The sample sheet, read by atomscope (a value not given is None in every optional column),
    then checked against the schema. The schema check runs on a copy: Snakemake's validate writes
    NaN back into the cells it skipped as null, and a NaN truth or pixel size is not "not given"."""
    sheet = read_sample_sheet(path)
    validate(sheet.copy(), schema="../schemas/samples.schema.yaml")
    return sheet


SAMPLES = load_samples(config["samples"])
# the sheet's rows as dicts: the input and params functions below run once per job, and a dict
# lookup costs a microsecond where SAMPLES.loc costs a hundred (40,000 calls for 10,000 samples)
ROWS = SAMPLES.to_dict("index")


wildcard_constraints:
    dataset=r"[A-Za-z0-9_]+",
    shard=r"\d+",
    index=r"\d+",
    sample=r"[A-Za-z0-9_.-]+",
    model=r"[A-Za-z0-9_-]+",
    batch=r"\d+",


def n_shards(dataset):
    spec = config["datasets"][dataset]
    return shard_count(spec["images"], spec["shard_size"])


def shard_paths(pattern, dataset):
    return expand(pattern, dataset=dataset, shard=range(n_shards(dataset)))


def canonical(value):
    """``value`` with dict keys sorted at every level: Snakemake compares params as written,
    so without this, reordering keys in config.yaml would rerun every job."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def section(name):
    """The config section a rule needs, as params (so other sections do not trigger reruns); a
    value, not a function of the wildcards: Snakemake inspects a function's signature per job."""
    return canonical(config[name])


def shard_spec(wildcards):
    """What one shard's content depends on, as params of its structures and simulate jobs: the
    dataset's seed, the shard's first model and its number of images. Not the dataset's size,
    so raising `images` adds shards and reruns only a partial last shard, whose size changes."""
    if wildcards.dataset not in config["datasets"]:
        raise ValueError(f"no dataset {wildcards.dataset!r} in config datasets; defined: {sorted(config['datasets'])}")
    spec = config["datasets"][wildcards.dataset]
    shard = int(wildcards.shard)
    first, images = shard_span(spec["images"], spec["shard_size"], shard)
    return {"dataset": wildcards.dataset, "shard": shard, "seed": spec["seed"], "first_model": first, "images": images}


def row_images(sample):
    """The sample's image file, or the files of a focal series (path a.tif;b.tif;c.tif)."""
    return [p.strip() for p in ROWS[sample]["path"].split(";")]


def sample_image(wildcards):
    return row_images(wildcards.sample)


def sample_pixel_size(wildcards):
    return ROWS[wildcards.sample]["pixel_size"]


INFERENCE = section("inference")


def row_inference(sample):
    """The inference section for a sample: the sheet's `elements`, where given, replace the config's."""
    elements = ROWS[sample]["elements"]
    return INFERENCE if elements is None else {**INFERENCE, "elements": parse_elements(elements)}


def sample_inference(wildcards):
    return row_inference(wildcards.sample)


def sample_truth(wildcards):
    return ROWS[wildcards.sample]["truth"]


def samples_with_truth():
    return [s for s, row in ROWS.items() if row["truth"] is not None]


MODEL = config["training"]["model"]
SHIPPED = shipped_models()


def row_model(sample):
    """The model file a sample is analysed with: the sheet's `model` (a shipped model's name or a
    file), else `training.model`: the shipped model of that name if there is one (no training
    job), else the model the train rule makes. Retrain a shipped model by asking for its
    results/models/{name}/model.safetensors."""
    named = ROWS[sample]["model"]
    if named is not None:
        return str(resolve_model(named))
    if MODEL in SHIPPED:
        return str(SHIPPED[MODEL])
    return f"results/models/{MODEL}/model.safetensors"


def sample_model(wildcards):
    return row_model(wildcards.sample)


def row_monolayer_model(sample):
    """The model file that draws the sample's monolayer (inference.monolayer_model), as a list: empty
    where its own model's head does."""
    found = resolve_monolayer_model(config["inference"]["monolayer_model"], row_model(sample))
    return [] if found is None else [str(found)]


def sample_monolayer_model(wildcards):
    return row_monolayer_model(wildcards.sample)


def model_metrics(wildcards):
    """The learning curve of training.model: shipped beside a shipped model, else the train rule's."""
    if MODEL in SHIPPED:
        return str(SHIPPED[MODEL].with_name(f"{MODEL}.metrics.parquet"))
    return f"results/models/{MODEL}/metrics.parquet"


# analysis.samples_per_job > 0: the samples, in sheet order, cut into batches of that many, each
# one job of every per-sample stage (workflow/rules/batch.smk); 0: a job per stage and sample
SAMPLES_PER_JOB = config["analysis"]["samples_per_job"]
BATCHES = [list(SAMPLES.index[i : i + SAMPLES_PER_JOB]) for i in range(0, len(SAMPLES), SAMPLES_PER_JOB)] if SAMPLES_PER_JOB else []


def batch_samples(wildcards):
    """What each sample of a batch is analysed from, as the batch job's params (see
    atomscope.steps.analyse_sample): images, pixel size, truth, model file, inference section."""
    return {
        sample: {
            "images": row_images(sample),
            "pixel_size": ROWS[sample]["pixel_size"],
            "truth": ROWS[sample]["truth"],
            "model": row_model(sample),
            "inference": row_inference(sample),
        }
        for sample in BATCHES[int(wildcards.batch)]
    }


def batch_inputs(wildcards):
    """The files a batch job reads: its samples' images, truths and models (those drawing the monolayer too)."""
    samples = BATCHES[int(wildcards.batch)]
    images = [path for sample in samples for path in row_images(sample)]
    truths = [ROWS[sample]["truth"] for sample in samples if ROWS[sample]["truth"] is not None]
    models = {row_model(sample) for sample in samples} | {path for sample in samples for path in row_monolayer_model(sample)}
    return {"images": images, "truths": truths, "models": sorted(models)}



def sample_folder(sample):
    """Where a batch job writes the files of one sample."""
    return f"results/batches/{SAMPLES.index.get_loc(sample) // SAMPLES_PER_JOB}/{sample}"


def summary_tables():
    """The tables report_summary reads, by path: each sample's geometry summary and the scores of
    the samples with truth; the per-sample rules' outputs, or files in the batch folders. Called
    where report_summary is defined, after the rules it names."""
    if SAMPLES_PER_JOB:
        return {
            "summaries": {sample: f"{sample_folder(sample)}/{FILES['triangulate']['summary']}" for sample in ROWS},
            "scores": [f"{sample_folder(sample)}/{FILES['evaluate']['scores']}" for sample in samples_with_truth()],
        }
    return {
        "summaries": dict(zip(ROWS, expand(rules.triangulate.output.summary, sample=ROWS))),
        "scores": expand(rules.evaluate.output.scores, sample=samples_with_truth()),
    }


def summary_inputs(wildcards):
    """report_summary's inputs: the tables of summary_tables(), or the batch folders that hold them."""
    if SAMPLES_PER_JOB:
        return {"batches": expand(rules.analyse_batch.output[0], batch=range(len(BATCHES)))}
    tables = summary_tables()
    return {"summaries": list(tables["summaries"].values()), "scores": tables["scores"]}
