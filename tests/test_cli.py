import numpy as np
import pytest

from atomscope.cli import main
from atomscope.io import read_table, write_micrograph_tiff
from atomscope.nets import build_network
from atomscope.simulation.targets import gaussian_heatmap
from atomscope.training.loop import save_checkpoint

ARCHITECTURE = {"kind": "resunet", "base_channels": 4, "depth": 2}


@pytest.fixture
def model(tmp_path):
    net = build_network(ARCHITECTURE, 1, 2)
    net.head.bias.data += 1.0  # untrained, but its maps have peaks above the threshold
    meta = {"architecture": ARCHITECTURE, "in_channels": 1, "channel_names": ["hrtem"], "target_names": ["atoms", "centres"], "sampling": 0.1}
    path = tmp_path / "model.pt"
    save_checkpoint(path, net, meta)
    return path


def test_analyse_writes_sites_and_geometry(tmp_path, model):
    image = gaussian_heatmap(np.random.default_rng(0).uniform(1, 9, (30, 2)), (100, 100), 0.1) + 0.1
    write_micrograph_tiff(tmp_path / "img.tif", image, 0.1)
    assert main(["analyse", str(tmp_path / "img.tif"), "--model", str(model), "--tile-px", "64", "--overlap-px", "8"]) == 0
    out = tmp_path / "img_atomscope"
    sites = read_table(out / "sites.parquet")
    assert {"frame", "kind", "x", "y", "x_px", "y_px", "score"} <= set(sites.columns)
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
    (tmp_path / "fake.pt").write_bytes(b"not a checkpoint")
    np.save(tmp_path / "raw.npy", np.random.default_rng(0).random((64, 64)))
    assert main(["analyse", str(tmp_path / "raw.npy"), "--model", str(tmp_path / "fake.pt"), "--pixel-size", "0.1"]) == 2
    assert "fake.pt" in capsys.readouterr().err
