import numpy as np
import pytest
import torch

from atomscope.cli import main
from atomscope.io import Head, HeadClass, InputChannel, ModelSpec, read_table, read_table_meta, write_micrograph_tiff, write_model
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
    assert main(["analyse", str(tmp_path / "graphene.npy"), "--model", str(model), "--pixel-size", "auto:graphene", "--tile-px", "64"]) == 0
    record = read_table_meta(tmp_path / "graphene_atomscope" / "sites.parquet")["config"]["pixel_size"]
    assert record["source"] == "lattice" and record["value"] == pytest.approx(0.11, rel=0.005) and 0 < record["uncertainty"] < 0.001


def test_a_pixel_size_that_is_neither_number_nor_auto_is_a_usage_error(tmp_path, model, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["analyse", str(tmp_path / "x.npy"), "--model", str(model), "--pixel-size", "0,11"])
    assert exit_.value.code == 2 and "'0,11': write a positive number of Å/px" in capsys.readouterr().err


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
    assert main(["analyse", str(tmp_path / "img.npy"), "--pixel-size", "0.1", "--tile-px", "64"]) == 0
    meta = read_table_meta(tmp_path / "img_atomscope" / "sites.parquet")
    assert meta["config"]["model"] == str(shipped / "carbon_hrtem.safetensors")
    assert (tmp_path / "img_atomscope" / "overlay.png").stat().st_size > 10_000
    assert main(["analyse", str(tmp_path / "img.npy"), "--pixel-size", "0.1", "--model", "carbon_stem", "--out", str(tmp_path / "b")]) == 0
    assert read_table_meta(tmp_path / "b" / "sites.parquet")["config"]["model"].endswith("carbon_stem.safetensors")
    assert main(["analyse", str(tmp_path / "img.npy"), "--pixel-size", "0.1", "--model", "graphite"]) == 2
    err = capsys.readouterr().err
    assert "graphite: neither a model file nor a shipped model; shipped models: ['carbon_hrtem', 'carbon_stem']" in err
