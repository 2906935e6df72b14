"""The whole DAG on a tiny config, then its contracts, reruns and bad input (Snakemake subprocesses)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import imageio.v3 as iio
import numpy as np
import pandas as pd
import pytest
import yaml

from atomscope.geometry import analyse_frames
from atomscope.io import ImageGrid, read_arrays, read_sample_sheet, read_table, read_table_meta, write_micrograph_tiff
from atomscope.report import overlay_figure, statistics_figure
from atomscope.simulation import Lens, exit_wave, hrtem_image, poisson_noise
from atomscope.structures import amorphous_carbon, sites_to_atoms

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
pytestmark = pytest.mark.workflow

SHEET = "sample\tpath\tpixel_size\ttruth\nsim\tresults/test_images/test/0-0.tif\t\tresults/test_images/test/0-0.truth.parquet\n"
# A user's own images beside the simulated test image, written as README says: an empty
# pixel_size cell for a calibrated file, a pixel size for an uncalibrated one, no truth.
OWN_ROWS = "own_calibrated\town/calibrated.tif\t\t\nown_uncalibrated\town/uncalibrated.npy\t0.11\t\n"
# The two real files of issue 7's report, when ../shared/data is beside the project.
REAL_ROWS = (
    f"real_ghd\t{SHARED_DATA / 'graphene_hrtem_defect.tif'}\t0.108\t\n"
    f"real_mos2\t{SHARED_DATA / 'mos2_se_implanted_stem.dm3'}\t\t\n"
)
# The same kind of images in a sheet without the optional columns at all.
BARE_SHEET = "sample\tpath\nbare_calibrated\town/calibrated.tif\n"


def simulated_carbon(seed: int) -> tuple[np.ndarray, float]:
    """An HRTEM image [counts] of amorphous carbon in the tiny config's conditions, and its pixel size [Å/px]."""
    sites, info = amorphous_carbon((24.0, 24.0), rng=seed)
    wave = exit_wave(sites_to_atoms(sites, info["cell"]), energy=80e3, potential_sampling=0.05)
    image, sampling = hrtem_image(wave, Lens(energy=80e3, defocus=-60.0, Cs=-150000.0, semiangle_cutoff=25.0, focal_spread=30.0), sampling=0.11)
    return poisson_noise(image, dose=1e5, sampling=sampling, rng=seed), sampling


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir), "--cores", "2", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return result


def planned_jobs(workdir: Path, *args: str) -> dict[str, int]:
    """Rule -> number of jobs a dry run would run."""
    out = snakemake(workdir, "-n", "--quiet", "rules", *args).stdout
    jobs = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("total", "job"):
            jobs[parts[0]] = int(parts[1])
    return jobs


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("tiny")
    (workdir / "config").mkdir()
    shutil.copy(ROOT / "tests" / "data" / "tiny_config.yaml", workdir / "config" / "config.yaml")
    (workdir / "own").mkdir()
    image, sampling = simulated_carbon(5)
    write_micrograph_tiff(workdir / "own" / "calibrated.tif", image, sampling)
    np.save(workdir / "own" / "uncalibrated.npy", simulated_carbon(6)[0])
    (workdir / "config" / "samples.tsv").write_text(SHEET + OWN_ROWS + (REAL_ROWS if SHARED_DATA.is_dir() else ""))
    snakemake(workdir)
    return workdir


def test_structures_and_simulation_contracts(run):
    sites = read_table(run / "results/structures/train/0.parquet")
    assert {"model", "kind", "x", "y", "z", "Z", "element", "layer", "ring_size", "species_class"} <= set(sites.columns)
    assert set(sites["kind"]) == {"atom", "centre"} and set(sites["model"]) == {0, 1, 2}
    assert read_table_meta(run / "results/structures/train/0.parquet")["units"]["x"] == "Å"
    arrays, attrs = read_arrays(run / "results/simulations/train/1.h5")
    assert arrays["images"].shape == (3, 1, 128, 128) and arrays["targets"].shape == (3, 3, 128, 128)
    assert attrs["target_names"] == ["atoms", "centres", "monolayer"] and list(arrays["model"]) == [3, 4, 5]
    table = read_table(run / "results/simulations/train/1.parquet")
    assert {"energy", "defocus", "Cs", "dose", "sampling", "focal_spread", "semiangle_cutoff"} <= set(table.columns)
    np.testing.assert_allclose(table["sampling"], arrays["sampling"])


def test_model_and_metrics_contracts(run):
    from atomscope.nets import load_model

    spec, net = load_model(run / "results/models/tiny/model.safetensors")
    assert spec.head_names == ["atoms", "centres", "monolayer"] and 0.1 <= spec.pixel_size <= 0.12
    assert (spec.architecture, spec.architecture_args) == ("resunet", {"base_channels": 8, "depth": 2})
    assert [h.classes[0].species for h in spec.heads] == [("C",), (), ()]  # amorphous carbon: atoms are C
    assert [h.kind for h in spec.heads] == ["heatmap", "heatmap", "mask"]
    assert spec.channel_names == ["hrtem"] and spec.normalisation == "standardise"
    assert spec.recipe.training["steps"] == 600 and len(spec.recipe.data_hash) == 64 and spec.recipe.preset is None
    assert spec.scores["atoms_f1"] > 0
    metrics = read_table(run / "results/models/tiny/metrics.parquet")
    assert list(metrics["step"]) == [200, 400, 600]
    assert {"train_loss", "atoms_f1", "atoms_precision", "atoms_recall", "atoms_rmse", "centres_f1"} <= set(metrics.columns)


def test_inference_geometry_motif_contracts(run):
    sites = read_table(run / "results/inference/sim/sites.parquet")
    assert list(sites.columns) == [
        "frame", "kind", "x_px", "y_px", "x", "y", "score", "species", "in_monolayer", "sigma_x", "sigma_y", "found", "ood",
    ]
    assert len(sites) > 0 and (sites["frame"] == 0).all()
    with h5py.File(run / "results/inference/sim/maps.h5") as f:
        assert f["maps"].shape[:2] == (1, 3) and f["images"].shape[:2] == (1, 1)
    bonds = read_table(run / "results/geometry/sim/bonds.parquet")
    assert bonds["length"].between(0.5, 3.0).all()
    summary = read_table(run / "results/geometry/sim/summary.parquet")
    # the monolayer head marks every site; a monolayer of amorphous carbon is nearly all monolayer
    assert sites["in_monolayer"].notna().all() and sites["in_monolayer"].mean() > 0.8
    assert len(summary) == 1 and summary.loc[0, "n_atoms"] == ((sites["kind"] == "atom") & sites["in_monolayer"]).sum()
    motifs = read_table(run / "results/motifs/sim/motifs.parquet")
    assert set(motifs["motif"]) == {0, 1}
    features = read_table(run / "results/motifs/sim/features.parquet")
    assert len(features) == len(motifs) and "Z2_0" in features.columns
    scores = read_table(run / "results/evaluation/sim.parquet")
    assert set(scores["kind"]) == {"atom", "centre"}
    # 600 steps of a small network find most atoms of an unseen image
    assert scores.set_index("kind").loc["atom", "f1"] > 0.7


def test_detections_give_the_structure_of_the_true_sites(run):
    """Centres are found, bonds average 1.42 Å and the ring fractions are those of the true sites."""
    scores = read_table(run / "results/evaluation/sim.parquet").set_index("kind")
    assert scores.loc["centre", "f1"] > 0.7
    detected = read_table(run / "results/geometry/sim/summary.parquet").iloc[0]
    assert detected["bond_length_mean"] == pytest.approx(1.42, abs=0.05)
    _, attrs = read_arrays(run / "results/inference/sim/maps.h5", [])
    truth = read_table(run / "results/test_images/test/0-0.truth.parquet").assign(frame=0)
    region = ImageGrid.from_attrs(attrs["image_grid"]).region()
    true = analyse_frames(truth[["frame", "kind", "x", "y"]], min_bond=0.5, max_bond=3.0, r_max=5.0, dr=0.1, region=region)["summary"].iloc[0]
    assert detected["n_complete_rings"] >= 0.7 * true["n_complete_rings"] > 0
    for size in (5, 6, 7):
        assert detected[f"ring_{size}"] == pytest.approx(true[f"ring_{size}"], abs=0.15), size


def test_report_figures_show_the_tables(run):
    """The figures by what they show: axis labels and the counts in their titles equal the tables."""
    tables = {name: read_table(run / f"results/geometry/sim/{name}.parquet") for name in ("bonds", "angles", "rings", "summary")}
    sites = read_table(run / "results/inference/sim/sites.parquet")
    arrays, attrs = read_arrays(run / "results/inference/sim/maps.h5", ["images"])
    overlay = overlay_figure(arrays["images"][0, 0], ImageGrid.from_attrs(attrs["model_grid"]).sampling, sites, tables["bonds"], tables["rings"])
    n_complete = int(tables["rings"]["complete"].sum())
    n_atoms = int((sites["kind"] == "atom").sum())
    assert overlay.axes[0].get_title() == f"{n_atoms} atoms, {len(tables['bonds'])} bonds, {n_complete} complete rings"
    assert (overlay.axes[0].get_xlabel(), overlay.axes[0].get_ylabel()) == ("x (Å)", "y (Å)")
    statistics = statistics_figure(tables["bonds"], tables["angles"], tables["rings"], tables["summary"])
    titles = {ax.get_xlabel(): ax.get_title() for ax in statistics.axes}
    assert titles["ring size"] == f"{n_complete} complete rings (bars: counting error)"
    assert titles["bond length (Å)"].startswith(f"mean {tables['bonds']['length'].mean():.3f} Å")
    assert {"bond angle (deg)", "r (Å)"} <= set(titles)
    # the rule wrote these figures at the configured dpi (60): the PNG's pixels are figsize x dpi
    for name, figure in (("overlay", overlay), ("statistics", statistics)):
        width, height = figure.get_size_inches() * 60
        assert iio.imread(run / f"results/report/sim/{name}.png").shape[:2] == (round(height), round(width))
    table = pd.read_csv(run / "results/report/samples.tsv", sep="\t")
    assert {"sample", "atom_f1", "centre_f1", "bond_length_mean"} <= set(table.columns)
    snakemake(run, "--report", "results/report.html")
    assert (run / "results/report.html").stat().st_size > 100_000


def test_own_images_run_through_every_stage_beside_the_simulated_one(run):
    sheet = read_sample_sheet(run / "config" / "samples.tsv")
    assert len(sheet) == (5 if SHARED_DATA.is_dir() else 3)
    for sample in sheet.index:
        for path in ("inference/{}/sites.parquet", "geometry/{}/summary.parquet", "motifs/{}/motifs.parquet", "report/{}/overlay.png"):
            assert (run / "results" / path.format(sample)).is_file(), (sample, path)
    # only the sample with truth is scored; the summary lists every sample, scores where truth exists
    assert sorted(p.stem for p in (run / "results/evaluation").glob("*.parquet")) == ["sim"]
    table = pd.read_csv(run / "results/report/samples.tsv", sep="\t").set_index("sample")
    assert sorted(table.index) == sorted(sheet.index)
    assert table.loc["sim", "atom_f1"] > 0.7 and table.drop(index="sim")["atom_f1"].isna().all()


@pytest.mark.parametrize(
    "sample, sampling, source",
    [("own_calibrated", 0.11, "file"), ("own_uncalibrated", 0.11, "sheet"), ("real_ghd", 0.108, "sheet"), ("real_mos2", 0.127, "file")],
)
def test_pixel_size_comes_from_the_sheet_or_else_the_file(run, sample, sampling, source):
    if sample.startswith("real") and not SHARED_DATA.is_dir():
        pytest.skip(f"real microscope data not found at {SHARED_DATA}")
    _, attrs = read_arrays(run / f"results/inference/{sample}/maps.h5", [])
    grid = ImageGrid.from_attrs(attrs["image_grid"])
    assert grid.sampling == pytest.approx(sampling, rel=0.01) and attrs["pixel_size"]["source"] == source
    assert read_table_meta(run / f"results/inference/{sample}/sites.parquet")["config"]["pixel_size"] == attrs["pixel_size"]
    sites = read_table(run / f"results/inference/{sample}/sites.parquet")
    assert len(sites) > 0
    np.testing.assert_allclose(sites["x"], sites["x_px"] * grid.sampling, rtol=1e-5, atol=1e-4)


def test_a_sheet_without_optional_columns_plans_no_scores_and_runs_to_the_figures(run):
    sheet = run / "config" / "bare.tsv"
    sheet.write_text(BARE_SHEET)
    jobs = planned_jobs(run, "--config", f"samples=config/{sheet.name}")
    assert "evaluate" not in jobs and jobs["infer"] == 1 and jobs["report_summary"] == 1
    snakemake(run, "results/report/bare_calibrated/overlay.png", "--config", f"samples=config/{sheet.name}")
    assert read_table(run / "results/geometry/bare_calibrated/summary.parquet").loc[0, "n_atoms"] > 0


def edited_config(workdir: Path, section: str, key: str, value) -> str:
    """Write the run's config with one value changed; return its path for --configfile."""
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    config[section][key] = value
    path = workdir / "config" / f"edit_{section}_{key}.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_rerun_has_nothing_to_do_and_report_edit_reruns_only_report(run):
    assert planned_jobs(run) == {}
    report_edit = edited_config(run, "report", "dpi", 61)
    n_samples = len(read_sample_sheet(run / "config" / "samples.tsv"))
    assert planned_jobs(run, "--configfile", report_edit) == {"report_sample": n_samples, "report_summary": 1, "all": 1}
    # an inference edit reruns inference and what follows, never training or simulation
    jobs = planned_jobs(run, "--configfile", edited_config(run, "inference", "threshold", 0.45))
    assert {"infer", "evaluate", "triangulate", "motifs", "report_sample"} <= set(jobs)
    assert not {"train", "simulate", "structures"} & set(jobs)


@pytest.mark.parametrize(
    "name, content, pixel_size, message",
    [
        ("nocal", "npy", "", r"nocal\.npy.*pixel.size"),
        ("corrupt", "junk", "0.1", r"corrupt\.tif"),
    ],
)
def test_bad_image_stops_with_a_message_and_no_output(run, name, content, pixel_size, message):
    path = run / f"{name}.{'npy' if content == 'npy' else 'tif'}"
    if content == "npy":
        np.save(path, np.random.default_rng(0).random((64, 64)))
    else:
        path.write_bytes(b"this is not a TIFF file" * 10)
    sheet = run / "config" / f"bad_{name}.tsv"
    sheet.write_text(SHEET + f"{name}\t{path.name}\t{pixel_size}\t\n")
    result = snakemake(run, f"results/inference/{name}/sites.parquet", "--config", f"samples=config/{sheet.name}", check=False)
    assert result.returncode != 0
    log = (run / f"logs/infer/{name}.log").read_text()
    assert "Traceback" not in log
    import re

    assert re.search(message, log, flags=re.IGNORECASE), log
    assert not (run / f"results/inference/{name}").exists() or not any((run / f"results/inference/{name}").iterdir())


def test_a_shipped_model_named_in_the_config_or_the_sheet_skips_training(run, monkeypatch):
    """training.model naming a shipped model: no structures, simulate or train job; the summary
    plots the learning curve shipped beside it. A sheet's `model` column picks one per sample."""
    shipped = run / "shipped"
    shipped.mkdir(exist_ok=True)
    shutil.copy(run / "results/models/tiny/model.safetensors", shipped / "tiny_shipped.safetensors")
    shutil.copy(run / "results/models/tiny/metrics.parquet", shipped / "tiny_shipped.metrics.parquet")
    monkeypatch.setenv("ATOMSCOPE_MODELS", str(shipped))
    jobs = planned_jobs(run, "--configfile", edited_config(run, "training", "model", "tiny_shipped"))
    assert not {"train", "simulate", "structures"} & set(jobs)
    assert jobs["infer"] == len(read_sample_sheet(run / "config" / "samples.tsv")) and jobs["report_summary"] == 1
    sheet = run / "config" / "per_sample_model.tsv"
    sheet.write_text(BARE_SHEET.rstrip("\n").replace("sample\tpath", "sample\tpath\tmodel", 1).replace(".tif", ".tif\ttiny_shipped") + "\n")
    snakemake(run, "results/inference/bare_calibrated/maps.h5", "--config", f"samples=config/{sheet.name}")
    _, attrs = read_arrays(run / "results/inference/bare_calibrated/maps.h5", [])
    assert attrs["model"] == str(shipped / "tiny_shipped.safetensors")


@pytest.fixture(scope="module")
def batched(run, tmp_path_factory) -> Path:
    """The tiny run's folder, copied, rerun with analysis.samples_per_job: 2 (one job per two samples)."""
    workdir = tmp_path_factory.mktemp("batched") / "run"
    shutil.copytree(run, workdir, symlinks=True)
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    config["analysis"] = {"samples_per_job": 2}
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    n_samples = len(read_sample_sheet(workdir / "config" / "samples.tsv"))
    # simulation and training stay as they are: only the analysis is cut into jobs another way
    assert planned_jobs(workdir) == {"analyse_batch": -(-n_samples // 2), "report_summary": 1, "all": 1}
    snakemake(workdir)
    return workdir


def test_batch_jobs_write_what_the_per_sample_jobs_write(run, batched):
    from atomscope.steps import FILES

    sheet = read_sample_sheet(run / "config" / "samples.tsv")
    for number, sample in enumerate(sheet.index):
        folder = batched / "results" / "batches" / str(number // 2) / sample
        expected = {file for step, files in FILES.items() for file in files.values() if step != "evaluate" or sheet.loc[sample, "truth"]}
        assert {p.name for p in folder.iterdir()} == expected, sample
        ours, theirs = read_table(folder / "sites.parquet"), read_table(run / "results" / "inference" / sample / "sites.parquet")
        assert len(ours) == len(theirs) > 0
        np.testing.assert_allclose(ours[["x", "y"]], theirs[["x", "y"]], atol=1e-3)  # the same network on the same image [Å]
        summary, reference = read_table(folder / "summary.parquet"), read_table(run / "results" / "geometry" / sample / "summary.parquet")
        assert summary.loc[0, "n_complete_rings"] == reference.loc[0, "n_complete_rings"]
        assert summary.loc[0, "bond_length_mean"] == pytest.approx(reference.loc[0, "bond_length_mean"], abs=1e-4, nan_ok=True)
    scores = read_table(batched / "results" / "batches" / "0" / "sim" / "scores.parquet").set_index("kind")
    reference = read_table(run / "results" / "evaluation" / "sim.parquet").set_index("kind")
    assert scores.loc["atom", "f1"] == pytest.approx(reference.loc["atom", "f1"], abs=0.01)
    table, per_sample = (pd.read_csv(path / "results" / "report" / "samples.tsv", sep="\t") for path in (batched, run))
    assert list(table["sample"]) == list(per_sample["sample"]) and list(table["n_atoms"]) == list(per_sample["n_atoms"])


def test_a_row_added_to_the_sheet_reruns_one_batch_and_a_bad_one_names_its_sample(batched):
    sheet = batched / "config" / "samples.tsv"
    n_samples = len(read_sample_sheet(sheet))
    (batched / "corrupt.tif").write_bytes(b"this is not a TIFF file" * 10)
    sheet.write_text(sheet.read_text() + "corrupt\tcorrupt.tif\t0.1\t\n")
    assert planned_jobs(batched) == {"analyse_batch": 1, "report_summary": 1, "all": 1}
    assert snakemake(batched, check=False).returncode != 0
    batch = n_samples // 2  # the last batch, holding the new row
    log = (batched / "logs" / "analyse_batch" / f"{batch}.log").read_text()
    assert "Traceback" not in log and "sample 'corrupt'" in log and "corrupt.tif" in log, log
    assert not (batched / "results" / "batches" / str(batch)).exists()
