import re

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from atomscope.cli import main
from atomscope.inference import lattice_evidence
from atomscope.io import Head, HeadClass, InputChannel, ModelSpec, read_positions, read_table, read_table_meta, write_micrograph_tiff, write_model
from atomscope.nets import network_from_spec
from atomscope.simulation.targets import gaussian_heatmap

SPEC = ModelSpec(
    architecture="resunet",
    architecture_args={"base_channels": 4, "depth": 2},
    input_channels=(InputChannel("hrtem"),),
    heads=(Head("atoms", "heatmap", (HeadClass("atom", ("C",)),)), Head("centres", "heatmap", (HeadClass("centre"),))),
    pixel_size=0.1,
)


@pytest.fixture
def model(tmp_path):
    # seeded: the weights (so maps, detections and the drift below) do not depend on which tests ran before
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = network_from_spec(SPEC)
    net.head.bias.data += 1.0  # untrained, but its maps have peaks above the threshold
    path = tmp_path / "model.safetensors"
    write_model(path, net, SPEC)
    return path


def test_analyse_writes_sites_and_geometry(tmp_path, model):
    image = gaussian_heatmap(np.random.default_rng(0).uniform(1, 11, (40, 2)), (128, 128), 0.1) + 0.1
    write_micrograph_tiff(tmp_path / "img.tif", image, 0.1)
    assert main(["analyse", str(tmp_path / "img.tif"), "--model", str(model), "--tile-px", "64", "--overlap-px", "8"]) == 0
    out = tmp_path / "img_atomscope"
    sites = read_table(out / "sites.parquet")
    assert {"frame", "kind", "x", "y", "x_px", "y_px", "score"} <= set(sites.columns)
    assert set(sites.loc[sites["kind"] == "atom", "species"]) == {"C"}  # the element the model's atoms head stands for
    for name in ("bonds", "angles", "rings", "summary"):
        assert (out / f"{name}.parquet").exists()


def test_analyse_without_pixel_size_exits_2_naming_the_file(tmp_path, model, capsys):
    np.save(tmp_path / "raw.npy", np.random.default_rng(0).random((64, 64)))
    assert main(["analyse", str(tmp_path / "raw.npy"), "--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert "raw.npy" in err and "--pixel-size" in err and "Traceback" not in err
    assert "sample sheet" not in err
    assert not (tmp_path / "raw_atomscope").exists()


def test_analyse_with_a_file_that_is_not_a_model(tmp_path, capsys):
    (tmp_path / "fake.safetensors").write_bytes(b"not a checkpoint")
    np.save(tmp_path / "raw.npy", np.random.default_rng(0).random((64, 64)))
    assert main(["analyse", str(tmp_path / "raw.npy"), "--model", str(tmp_path / "fake.safetensors"), "--pixel-size", "0.1"]) == 2
    err = capsys.readouterr().err
    assert "fake.safetensors" in err and "retrain" in err and "Traceback" not in err


def test_analyse_with_a_model_pt_of_the_old_layout(tmp_path, capsys):
    torch.save({"model": network_from_spec(SPEC).state_dict(), "sampling": 0.1}, tmp_path / "model.pt")
    np.save(tmp_path / "raw.npy", np.random.default_rng(0).random((64, 64)))
    assert main(["analyse", str(tmp_path / "raw.npy"), "--model", str(tmp_path / "model.pt"), "--pixel-size", "0.1"]) == 2
    err = capsys.readouterr().err
    assert "model.pt: a PyTorch pickle" in err and "retrain it with the train rule" in err


def test_analyse_measures_the_pixel_size_from_the_lattice(tmp_path, model):
    from test_inference_calibration import honeycomb_image

    np.save(tmp_path / "graphene.npy", honeycomb_image(0.11))
    assert main(["analyse", str(tmp_path / "graphene.npy"), "--model", str(model), "--pixel-size", "auto:graphene", "--tile-px", "64", "--overlap-px", "16"]) == 0
    record = read_table_meta(tmp_path / "graphene_atomscope" / "sites.parquet")["config"]["pixel_size"]
    assert record["source"] == "lattice" and record["value"] == pytest.approx(0.11, rel=0.005) and 0 < record["uncertainty"] < 0.001


def test_a_pixel_size_that_is_neither_number_nor_auto_is_a_usage_error(tmp_path, model, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["analyse", str(tmp_path / "x.npy"), "--model", str(model), "--pixel-size", "0,11"])
    assert exit_.value.code == 2 and "'0,11': write a positive number of Å/px" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "1.5"])
def test_a_monolayer_threshold_that_is_no_probability_exits_2(tmp_path, model, capsys, value):
    np.save(tmp_path / "raw.npy", np.random.default_rng(0).random((64, 64)))
    with pytest.raises(SystemExit) as exit_:
        main(["analyse", str(tmp_path / "raw.npy"), "--model", str(model), "--pixel-size", "0.1", "--monolayer-threshold", value])
    assert exit_.value.code == 2 and f"{value} is not strictly between 0 and 1" in capsys.readouterr().err
    assert not (tmp_path / "raw_atomscope").exists()


def test_elements_that_are_no_symbols_or_that_the_model_cannot_class_exit_2(tmp_path, model, capsys):
    np.save(tmp_path / "raw.npy", np.random.default_rng(0).random((64, 64)))
    with pytest.raises(SystemExit) as exit_:
        main(["analyse", str(tmp_path / "raw.npy"), "--model", str(model), "--elements", "Mo,sulfur"])
    assert exit_.value.code == 2 and "sulfur: not chemical symbols; give e.g. Mo,S,Se" in capsys.readouterr().err
    # the carbon test model has no species head: refused before any file is read
    assert main(["analyse", str(tmp_path / "raw.npy"), "--model", str(model), "--pixel-size", "0.1", "--elements", "C"]) == 2
    err = capsys.readouterr().err
    assert "--elements: elements ['C'] given, but the model has no species head" in err and "model.safetensors" in err
    assert not (tmp_path / "raw_atomscope").exists()


def test_models_lists_the_shipped_ones_and_analyse_uses_the_default(tmp_path, model, monkeypatch, capsys):
    """`atomscope models` reads every model file of the shipped folder; `analyse` without --model
    takes carbon_hrtem from it, --model NAME picks another, an unknown name lists what there is."""
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for name in ("carbon_hrtem", "carbon_stem"):
        (shipped / f"{name}.safetensors").write_bytes(model.read_bytes())
    monkeypatch.setenv("ATOMSCOPE_MODELS", str(shipped))
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("carbon_hrtem (default): resunet, input hrtem at 0.100 Å/px")
    assert lines[1].startswith("carbon_stem: ") and "heads atoms, centres" in lines[1]
    image = gaussian_heatmap(np.random.default_rng(0).uniform(1, 11, (40, 2)), (128, 128), 0.1) + 0.1
    np.save(tmp_path / "img.npy", image)
    assert main(["analyse", str(tmp_path / "img.npy"), "--pixel-size", "0.1", "--tile-px", "64", "--overlap-px", "16"]) == 0
    meta = read_table_meta(tmp_path / "img_atomscope" / "sites.parquet")
    assert meta["config"]["model"] == str(shipped / "carbon_hrtem.safetensors")
    assert (tmp_path / "img_atomscope" / "overlay.png").stat().st_size > 10_000
    assert main(["analyse", str(tmp_path / "img.npy"), "--pixel-size", "0.1", "--model", "carbon_stem", "--out", str(tmp_path / "b")]) == 0
    assert read_table_meta(tmp_path / "b" / "sites.parquet")["config"]["model"].endswith("carbon_stem.safetensors")
    assert main(["analyse", str(tmp_path / "img.npy"), "--pixel-size", "0.1", "--model", "graphite"]) == 2
    err = capsys.readouterr().err
    assert "graphite: neither a model file nor a shipped model; shipped models: ['carbon_hrtem', 'carbon_stem']" in err


def test_the_monolayer_model_auto_is_the_coarse_companion_of_a_shipped_model(tmp_path, model, monkeypatch, capsys):
    """inference.monolayer_model / --monolayer-model: auto finds carbon_hrtem_monolayer for
    carbon_hrtem only, and only where it is shipped; none and other models' own heads give None."""
    from atomscope.nets import resolve_monolayer_model

    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for name in ("carbon_hrtem", "carbon_stem", "carbon_hrtem_monolayer"):
        (shipped / f"{name}.safetensors").write_bytes(b"weights")
    monkeypatch.setenv("ATOMSCOPE_MODELS", str(shipped))
    own = tmp_path / "mine.safetensors"
    own.write_bytes(b"weights")
    assert resolve_monolayer_model("auto", shipped / "carbon_hrtem.safetensors") == shipped / "carbon_hrtem_monolayer.safetensors"
    assert resolve_monolayer_model("auto", shipped / "carbon_stem.safetensors") is None
    assert resolve_monolayer_model("auto", own) is None
    assert resolve_monolayer_model("none", shipped / "carbon_hrtem.safetensors") is None
    assert resolve_monolayer_model("carbon_stem", own) == shipped / "carbon_stem.safetensors"
    (shipped / "carbon_hrtem_monolayer.safetensors").unlink()
    assert resolve_monolayer_model("auto", shipped / "carbon_hrtem.safetensors") is None
    np.save(tmp_path / "img.npy", _image())
    assert main(["analyse", str(tmp_path / "img.npy"), "--pixel-size", "0.1", "--model", str(model), "--monolayer-model", "graphite"]) == 2
    assert "--monolayer-model: graphite: neither a model file nor a shipped model" in capsys.readouterr().err
    assert not (tmp_path / "img_atomscope").exists()


def _image(seed: int = 0, size: int = 128) -> np.ndarray:
    return gaussian_heatmap(np.random.default_rng(seed).uniform(1, size / 10 - 1, (size // 3, 2)), (size, size), 0.1) + 0.1


def _write(path, make):
    make(path)
    return path


BAD_INPUTS = {
    # name: (file writer, extra arguments, the message (regex) after "atomscope: error: <file>: ")
    "too-small": ("s.npy", lambda p: np.save(p, _image()[:16, :16]), ["--pixel-size", "0.1"],
                  r"the image is 16 x 16 px \(1\.6 x 1\.6 Å at 0\.1 Å/px\), smaller than the 9\.6 Å .*at least 96 x 96 px"),
    "colour": ("c.png", lambda p: iio.imwrite(p, np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)),
               ["--pixel-size", "0.1"], r"a colour image \(shape \(128, 128, 3\)\) whose channels differ.*save the micrograph as a greyscale"),
    "complex": ("z.npy", lambda p: np.save(p, np.ones((128, 128), complex)), ["--pixel-size", "0.1"], r"holds complex128 values, not real intensities"),
    "4-D": ("f.npy", lambda p: np.save(p, np.zeros((2, 3, 128, 128))), ["--pixel-size", "0.1"], r"data of shape \(2, 3, 128, 128\) is neither an image"),
    "nan": ("n.npy", lambda p: np.save(p, np.where(np.eye(128) > 0, np.nan, _image())), ["--pixel-size", "0.1"], r"128 pixels are NaN or infinite"),
    "constant": ("k.npy", lambda p: np.save(p, np.full((128, 128), 3.0)), ["--pixel-size", "0.1"], r"frames \[0\] are constant"),
    "truncated": ("t.tif", lambda p: (write_micrograph_tiff(p, _image(), 0.1), p.write_bytes(p.read_bytes()[:30_000])),
                  [], r"cannot read the file as \.tif .*check that it is complete"),
    "unknown-extension": ("u.jpg2", lambda p: p.write_bytes(b"data"), ["--pixel-size", "0.1"], r"unsupported file type '\.jpg2'; convert the image to one of"),
    "missing": ("m.tif", lambda p: None, ["--pixel-size", "0.1"], r"no such file; check the image path"),
    "no-lattice": ("r.npy", lambda p: np.save(p, np.random.default_rng(0).random((128, 128))), ["--pixel-size", "auto:graphene"],
                   r"no hexagonal lattice .*; give the pixel size as a number instead: pass --pixel-size \(Å/px\)"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_each_bad_input_is_one_line_naming_the_file_with_exit_2_and_no_output(tmp_path, model, capsys, case):
    name, make, extra, message = BAD_INPUTS[case]
    path = _write(tmp_path / name, make)
    assert main(["analyse", str(path), "--model", str(model), "--tile-px", "64", "--overlap-px", "16", *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert re.match(rf"atomscope: error: {re.escape(str(path))}: {message}", err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model.safetensors"] + ([name] if path.exists() else []))


@pytest.mark.parametrize(("value", "message"), [
    ("50", "'50': 50 Å/px is outside the 0.005-5.0 Å/px of atomic-resolution images (a unit slip? 1 nm = 10 Å)"),
    ("0.0001", "'0.0001': 0.0001 Å/px is outside the 0.005-5.0 Å/px"),
    ("-0.1", "'-0.1': write a positive number of Å/px"),
    ("0", "'0': write a positive number of Å/px"),
])
def test_an_absurd_pixel_size_is_refused_before_any_file_is_read(tmp_path, model, capsys, value, message):
    # --pixel-size 50 once tried to allocate 112 GiB, 0.0001 said "image has a constant channel"
    np.save(tmp_path / "a.npy", _image())
    with pytest.raises(SystemExit) as exit_:
        main(["analyse", str(tmp_path / "a.npy"), "--model", str(model), "--pixel-size", value])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1
    assert err.startswith(f"atomscope analyse: error: argument --pixel-size: {message}") and err.endswith("(see atomscope analyse --help)\n")


def test_several_files_and_a_pattern_each_get_a_folder_and_one_failure_stops_no_other(tmp_path, model, capsys):
    for k in range(2):
        np.save(tmp_path / f"good{k}.npy", _image(k))
    np.save(tmp_path / "good_small.npy", _image()[:16, :16])
    pattern, nothing = str(tmp_path / "good*.npy"), str(tmp_path / "*.dm4")
    code = main(["analyse", pattern, nothing, "--model", str(model), "--pixel-size", "0.1", "--tile-px", "64", "--overlap-px", "16", "--out", str(tmp_path / "out"),
                 "--format", "csv,extxyz"])
    assert code == 2
    lines = capsys.readouterr().err.splitlines()
    errors = [line for line in lines if line.startswith("atomscope: error:")]
    assert errors == [
        f"atomscope: error: {nothing}: no file matches this pattern; check the folder and the quotes around it",
        f"atomscope: error: {tmp_path / 'good_small.npy'}: the image is 16 x 16 px (1.6 x 1.6 Å at 0.1 Å/px), smaller than the 9.6 Å "
        "(96 px at the model's 0.1 Å/px) a side must span; give an image of at least 96 x 96 px at this pixel size",
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good0", "good1"]  # nothing for the refused file, no staging left
    folder = tmp_path / "out" / "good1"
    expected = {f"{n}.{ext}" for n in ("sites", "bonds", "angles", "rings", "adjacency", "defects", "summary") for ext in ("parquet", "csv")}
    assert expected | {"sites.extxyz", "maps.h5", "overlay.png", "network.png"} == {p.name for p in folder.iterdir()}
    sites = read_table(folder / "sites.parquet")
    from_csv = read_positions(folder / "sites.csv")
    np.testing.assert_allclose(from_csv[["x", "y"]].to_numpy(), sites[["x", "y"]].to_numpy())
    from_xyz = read_positions(folder / "sites.extxyz")
    np.testing.assert_allclose(from_xyz[["x", "y"]].to_numpy(), sites[["x", "y"]].to_numpy(), atol=1e-6)
    assert read_table_meta(folder / "sites.parquet")["config"]["lattice"] == lattice_evidence(sites)


def test_all_files_analysed_exit_0_and_a_bug_in_one_exits_1_after_the_others(tmp_path, model, monkeypatch, capsys):
    import atomscope.cli as cli

    for k in range(3):
        np.save(tmp_path / f"{k}.npy", _image(k))
    args = ["analyse", *(str(tmp_path / f"{k}.npy") for k in range(3)), "--model", str(model), "--pixel-size", "0.1", "--tile-px", "64", "--overlap-px", "16"]
    assert main(args) == 0 and all((tmp_path / f"{k}_atomscope" / "sites.parquet").exists() for k in range(3))
    analyse_file = cli.analyse_file

    def buggy(image, *rest):
        if image.name == "0.npy":
            raise RuntimeError("a bug")
        return analyse_file(image, *rest)

    monkeypatch.setattr(cli, "analyse_file", buggy)
    assert main(args) == 1
    assert "0.npy: unexpected failure, please report it" in capsys.readouterr().err


def test_two_files_that_would_share_an_output_folder_are_refused(tmp_path, model, capsys):
    np.save(tmp_path / "a.npy", _image())
    write_micrograph_tiff(tmp_path / "a.tif", _image(), 0.1)
    assert main(["analyse", str(tmp_path / "a.npy"), str(tmp_path / "a.tif"), "--model", str(model)]) == 2
    assert f"a.npy and {tmp_path / 'a.tif'} would both write to {tmp_path / 'a_atomscope'}; rename one" in capsys.readouterr().err


def test_help_lists_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["analyse", "--help"])
    out = capsys.readouterr().out
    assert "exit codes:\n  0  every file was analysed\n  1  an unexpected failure" in out and "  2  a usage error, or bad input" in out


def _graphene_positions(nx: int = 9, ny: int = 8, offset: float = 3.0) -> np.ndarray:
    """Atoms of nx * ny whole graphene hexagons [Å], shifted into positive x, y."""
    cc, a = 1.42, 1.42 * np.sqrt(3)
    i, j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    centres = np.stack([i * a + (j % 2) * a / 2, j * 1.5 * cc], -1).reshape(-1, 2)
    turns = np.pi / 6 + np.pi / 3 * np.arange(6)
    atoms = (centres[:, None] + cc * np.stack([np.cos(turns), np.sin(turns)], -1)).reshape(-1, 2)
    _, first = np.unique(np.round(atoms, 4), axis=0, return_index=True)
    return atoms[np.sort(first)] + offset


def test_triangulate_reads_another_tools_pixel_list_and_names_its_defects(tmp_path, capsys):
    atoms = _graphene_positions()
    csv = tmp_path / "atomap_export.csv"
    csv.write_text("x,y\n" + "\n".join(f"{x / 0.05:.4f},{y / 0.05:.4f}" for x, y in atoms))  # px at 0.05 Å/px
    assert main(["triangulate", str(csv), "--pixel-size", "0.05", "--format", "csv"]) == 0
    out = tmp_path / "atomap_export_geometry"
    rings, bonds = read_table(out / "rings.parquet"), read_table(out / "bonds.parquet")
    complete = rings[rings["complete"]]
    # no centres: rings as faces; the region is the positions' bounding box, so the edge hexagons
    # (their circle touches it) are complete only with exact positions, as here: all 72
    assert len(complete) == 72 and set(complete["size"]) == {6} and (complete["centre"] == -1).all()
    assert abs(bonds["length"].mean() - 1.42) < 1e-3 and (out / "network.png").stat().st_size > 10_000
    assert (out / "summary.csv").is_file() and read_table(out / "defects.parquet").empty
    # pixels read as Å (28.4 "Å" bonds) are refused: the message names the file and the flag
    capsys.readouterr()
    assert main(["triangulate", str(csv), "--out", str(tmp_path / "px")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "atomap_export.csv" in error and "--pixel-size" in error and not (tmp_path / "px").exists()


def test_triangulate_a_missing_file_exits_2_in_one_line(tmp_path, capsys):
    assert main(["triangulate", str(tmp_path / "none.csv")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "none.csv" in error


def test_triangulate_measures_the_spacing_frame_by_frame(tmp_path):
    # two frames of the same lattice: pooled, every atom would have a twin at 0 Å and be refused
    atoms = _graphene_positions(5, 4)
    rows = [f"{frame},{x:.4f},{y:.4f}" for frame in (0, 1) for x, y in atoms]
    csv = tmp_path / "movie.csv"
    csv.write_text("frame,x,y\n" + "\n".join(rows))
    assert main(["triangulate", str(csv)]) == 0
    summary = read_table(tmp_path / "movie_geometry" / "summary.parquet")
    assert summary["frame"].tolist() == [0, 1] and (summary["n_complete_rings"] == 20).all()


def test_a_movie_is_analysed_frame_by_frame_with_its_drift_removed(tmp_path, model):
    # three 128 px frames cut from one field at offsets of (0, 0), (4, 7) and (9, 11) px: the
    # content of frame k sits at its frame-0 position minus the offset
    field = gaussian_heatmap(np.random.default_rng(1).uniform(0, 16, (160, 2)), (160, 160), 0.1) + 0.1
    offsets = np.array([(0, 0), (4, 7), (9, 11)])  # (row, col) [px]
    np.save(tmp_path / "movie.npy", np.stack([field[r : r + 128, c : c + 128] for r, c in offsets]))
    args = ["analyse", str(tmp_path / "movie.npy"), "--model", str(model), "--pixel-size", "0.1", "--tile-px", "64", "--overlap-px", "16"]
    assert main(args) == 0
    out = tmp_path / "movie_atomscope"
    drift = read_table(out / "drift.parquet")
    assert drift["frame"].tolist() == [0, 1, 2]
    # within 0.1 Å through an untrained network (0.002 Å measured with these weights; 0.094 Å at worst over
    # 40 seeds of its weights, which is why they are seeded; the 0.05 Å bar: test_inference_drift)
    assert np.abs(drift[["dy", "dx"]].to_numpy() + 0.1 * offsets).max() < 0.1
    sites = read_table(out / "sites.parquet")
    shift = sites["x"] - sites["x_corrected"]
    assert np.allclose(shift, drift.set_index("frame").loc[sites["frame"], "dx"].to_numpy())
    for name in ("sites", "summary"):
        assert set(read_table(out / f"{name}.parquet")["frame"]) == {0, 1, 2}, name
    for name in ("bonds", "angles", "rings", "adjacency", "defects"):  # random atoms: a frame may have none
        assert set(read_table(out / f"{name}.parquet")["frame"]) <= {0, 1, 2}, name
    assert (out / "time_series.png").stat().st_size > 10_000
