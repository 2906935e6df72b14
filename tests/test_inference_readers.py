"""Tests for atomscope.inference.readers: formats, calibration, and every error path."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from rsciio import tiff

from atomscope.inference import Micrograph, read_micrograph


def _axis(name: str, size: int, scale: float, units: str | None, navigate: bool = False) -> dict:
    return {"name": name, "size": size, "scale": scale, "offset": 0.0, "units": units, "navigate": navigate}


def write_tiff(
    path: Path, data: np.ndarray, *, scale: float = 1.0, units: str | None = None, scale_x: float | None = None
) -> Path:
    """Write ``data`` (H, W) or (F, H, W) as a TIFF with a pixel calibration RosettaSciIO reads back."""
    h, w = data.shape[-2:]
    axes = [_axis("y", h, scale, units), _axis("x", w, scale if scale_x is None else scale_x, units)]
    if data.ndim == 3:
        axes.insert(0, _axis("frame", data.shape[0], 1.0, None, navigate=True))
    tiff.file_writer(str(path), {"data": data, "axes": axes, "metadata": {}, "original_metadata": {}})
    return path


def write_npy(path: Path, data: np.ndarray) -> Path:
    np.save(path, data)
    return path


@pytest.fixture
def image() -> np.ndarray:
    return np.random.default_rng(0).random((20, 30)).astype(np.float32)


# --- formats and calibration -------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "scale"),
    [("nm", 0.0127), ("µm", 1.27e-5), ("um", 1.27e-5), ("pm", 12.7), ("Å", 0.127), ("angstrom", 0.127)],
)
def test_calibrated_tiff_gives_pixel_size_in_angstrom(tmp_path, image, units, scale):
    m = read_micrograph(write_tiff(tmp_path / "a.tif", image, scale=scale, units=units))
    assert isinstance(m, Micrograph)
    assert m.sampling == pytest.approx(0.127, rel=1e-6)
    assert m.source == "file"
    assert m.path == tmp_path / "a.tif"
    assert m.frames.dtype == np.float32 and m.frames.shape == (1, 20, 30)
    np.testing.assert_array_equal(m.frames[0], image)


def test_tiff_stack_is_an_image_series(tmp_path):
    stack = np.random.default_rng(1).random((3, 20, 30)).astype(np.float32)
    m = read_micrograph(write_tiff(tmp_path / "s.tiff", stack, scale=0.01, units="nm"))
    assert m.frames.shape == (3, 20, 30)
    np.testing.assert_array_equal(m.frames, stack)
    assert m.sampling == pytest.approx(0.1)


def test_sheet_pixel_size_overrides_the_file(tmp_path, image):
    m = read_micrograph(write_tiff(tmp_path / "a.tif", image, scale=0.01, units="nm"), pixel_size=0.2, pixel_size_from="sheet")
    assert (m.sampling, m.source) == (0.2, "sheet")


@pytest.mark.parametrize(
    "origin, fix",
    [("sheet", r"`pixel_size`.*sample sheet"), ("cli", r"--pixel-size"), ("argument", r"pixel_size \(Å/px\) to read_micrograph")],
)
def test_missing_pixel_size_message_names_where_to_give_it(tmp_path, image, origin, fix):
    with pytest.raises(ValueError, match=rf"a\.npy: no pixel size in the file and none given; .*{fix}") as error:
        read_micrograph(write_npy(tmp_path / "a.npy", image), pixel_size_from=origin)
    others = {"sheet": "sample sheet", "cli": "--pixel-size", "argument": "read_micrograph"}
    assert all(text not in str(error.value) for name, text in others.items() if name != origin)


def test_npy_integers_become_float32(tmp_path):
    data = np.arange(12, dtype=np.uint16).reshape(3, 4)
    m = read_micrograph(write_npy(tmp_path / "a.npy", data), pixel_size=0.1)
    assert m.frames.dtype == np.float32
    np.testing.assert_array_equal(m.frames[0], data)


def test_grey_png_keeps_its_values(tmp_path):
    grey = np.random.default_rng(2).integers(0, 256, (20, 30), dtype=np.uint8)
    iio.imwrite(tmp_path / "g.png", grey)
    m = read_micrograph(tmp_path / "g.png", pixel_size=0.1)
    np.testing.assert_array_equal(m.frames[0], grey)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".npy"])
def test_a_colour_image_is_refused_with_the_fix(tmp_path, suffix):
    # an RGB PNG of noise was once analysed, through its luma, into 228 "atoms"
    rgb = np.random.default_rng(3).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    path = tmp_path / f"c{suffix}"
    np.save(path, rgb) if suffix == ".npy" else iio.imwrite(path, rgb)
    with pytest.raises(ValueError, match=rf"c\{suffix}: a colour image \(shape \(20, 30, 3\)\) whose channels differ.*save the micrograph as a greyscale"):
        read_micrograph(path, pixel_size=0.1)


@pytest.mark.parametrize(("suffix", "channels"), [(".png", "RGB"), (".png", "RGBA"), (".png", "LA"), (".png", "P"), (".tif", "RGB"), (".npy", "RGB")])
def test_a_grey_image_saved_in_colour_is_read_as_grey(tmp_path, suffix, channels):
    from PIL import Image

    grey = np.random.default_rng(4).integers(0, 256, (20, 30), dtype=np.uint8)
    path = tmp_path / f"g{suffix}"
    colour = Image.fromarray(grey).convert(channels)
    np.save(path, np.asarray(colour)) if suffix == ".npy" else colour.save(path)
    m = read_micrograph(path, pixel_size=0.1)
    assert m.frames.shape == (1, 20, 30)
    np.testing.assert_array_equal(m.frames[0], grey)


def test_an_image_series_of_three_frames_is_not_taken_for_colour(tmp_path):
    frames = np.random.default_rng(5).random((3, 20, 30))
    assert read_micrograph(write_npy(tmp_path / "s.npy", frames), pixel_size=0.1).frames.shape == (3, 20, 30)


# --- calibration errors -------------------------------------------------------------------


def test_uncalibrated_tiff_needs_the_sheet(tmp_path, image):
    path = write_tiff(tmp_path / "u.tif", image)
    expected = r"u\.tif: no pixel size in the file and none given; .*sample sheet \(config/samples\.tsv\)"
    with pytest.raises(ValueError, match=expected):
        read_micrograph(path, pixel_size_from="sheet")
    assert read_micrograph(path, pixel_size=0.11).sampling == 0.11


def test_unitless_scale_is_not_guessed(tmp_path, image):
    with pytest.raises(ValueError, match=r"pixel size of 0\.5 without a unit.*if the unit is nm, that is 5 Å/px"):
        read_micrograph(write_tiff(tmp_path / "u.tif", image, scale=0.5, units=None))


def test_reciprocal_units_are_not_a_length(tmp_path, image):
    with pytest.raises(ValueError, match=r"in \['1/nm'\], not a length"):
        read_micrograph(write_tiff(tmp_path / "d.tif", image, scale=0.5, units="1/nm"))


def test_non_square_pixels_are_an_error(tmp_path, image):
    with pytest.raises(ValueError, match="non-square pixels.*resample"):
        read_micrograph(write_tiff(tmp_path / "r.tif", image, scale=0.01, scale_x=0.02, units="nm"))


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan"), float("inf")])
def test_bad_sheet_pixel_size(tmp_path, image, bad):
    with pytest.raises(ValueError, match="pixel size must be a positive number"):
        read_micrograph(write_npy(tmp_path / "a.npy", image), pixel_size=bad)


# --- file errors ----------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.tif: no such file"):
        read_micrograph(tmp_path / "nope.tif", pixel_size=0.1)


def test_unknown_extension_lists_the_supported_ones(tmp_path):
    (tmp_path / "a.xyz").write_bytes(b"data")
    with pytest.raises(ValueError, match=r"a\.xyz: unsupported file type '\.xyz'.*\.tif.*\.dm3.*\.emd.*\.png"):
        read_micrograph(tmp_path / "a.xyz", pixel_size=0.1)


@pytest.mark.parametrize("name", ["junk.tif", "junk.dm3", "junk.emd", "junk.npy", "junk.png", "junk.hspy"])
def test_corrupt_file_is_reported(tmp_path, name):
    (tmp_path / name).write_bytes(b"junk" * 100)
    with pytest.raises(ValueError, match=rf"{name}: cannot read the file as \.\w+ \(\w+"):
        read_micrograph(tmp_path / name, pixel_size=0.1)


@pytest.mark.parametrize("suffix", [".tif", ".npy"])
def test_truncated_file_is_reported(tmp_path, image, suffix):
    path = tmp_path / f"t{suffix}"
    write_tiff(path, image) if suffix == ".tif" else write_npy(path, image)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match=rf"t\{suffix}: cannot read the file.*export it again"):
        read_micrograph(path, pixel_size=0.1)


def test_tiff_header_with_junk_holds_no_data(tmp_path):
    (tmp_path / "junk.tif").write_bytes(b"II*\x00" + b"junk" * 100)
    with pytest.raises(ValueError, match="holds no data"):
        read_micrograph(tmp_path / "junk.tif", pixel_size=0.1)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (np.full((4, 5), np.nan), "20 pixels are NaN or infinite"),
        (np.where(np.eye(4, 5) > 0, np.inf, 1.0), "4 pixels are NaN or infinite"),
        (np.array([[0.0, 1.0], [2.0, 1e300]]), "1 pixels are NaN or infinite"),  # overflows float32
        (np.zeros((2, 3, 4, 5)), r"shape \(2, 3, 4, 5\) is neither an image"),
        (np.arange(5.0), r"shape \(5,\) is neither an image"),
        (np.zeros((0, 5)), "empty"),
        (np.full((4, 5), 7.0), r"frames \[0\] are constant"),
        (np.stack([np.eye(4), np.ones((4, 4)), np.eye(4)]), r"frames \[1\] are constant"),
        (np.ones((4, 5), complex), "complex128 values, not real intensities"),
        (np.ones((4, 5), bool), "bool values"),
    ],
)
def test_bad_data(tmp_path, data, match):
    with pytest.raises(ValueError, match=match):
        read_micrograph(write_npy(tmp_path / "bad.npy", data), pixel_size=0.1)


# --- the real files in ../shared/data (sizes and pixel sizes from its README; the
# `shared_data` fixture of conftest.py skips these where the folder is absent) -------------


@pytest.mark.parametrize(
    ("name", "shape", "sampling"),
    [("mos2_se_implanted_stem.dm3", (1, 1024, 1024), 0.127), ("au_nanoparticle_stem.emd", (1, 2048, 2048), 0.075)],
    ids=["dm3", "emd"],
)
@pytest.mark.realdata
def test_real_calibrated_files(shared_data, name, shape, sampling):
    m = read_micrograph(shared_data / name)
    assert m.frames.shape == shape and m.frames.dtype == np.float32
    assert m.sampling == pytest.approx(sampling, abs=1e-3)
    assert m.source == "file"


@pytest.mark.parametrize(
    ("name", "shape", "sampling", "match"),
    [
        ("graphene_hrtem_defect.tif", (1, 512, 512), 0.11, "no pixel size in the file"),
        ("mose2_stem_grain_boundary.tif", (1, 500, 500), 0.1, "no pixel size in the file"),
        ("graphene_stem_grain_boundary_6nm.npy", (1, 512, 512), 0.117, "no pixel size in the file"),
        # The HyperSpy file stores the scale 0.00933 with no unit anywhere (axes, metadata,
        # original_metadata are empty of units): it is nm, but the reader does not guess.
        ("srtio3_adf_stem.hspy", (1, 400, 380), 0.0933, r"0\.00932627 without a unit.*0\.0932627 Å/px"),
    ],
    ids=["hrtem-tif", "mose2-tif", "npy", "hspy"],
)
@pytest.mark.realdata
def test_real_files_that_need_the_sheet(shared_data, name, shape, sampling, match):
    with pytest.raises(ValueError, match=match):
        read_micrograph(shared_data / name)
    m = read_micrograph(shared_data / name, pixel_size=sampling, pixel_size_from="sheet")
    assert m.frames.shape == shape and m.frames.dtype == np.float32
    assert (m.sampling, m.source) == (sampling, "sheet")


@pytest.mark.realdata
def test_real_pngs(shared_data):
    images = sorted(p for p in (shared_data / "graphene_contamination").glob("*.png") if not p.stem.endswith("_LABEL"))
    assert len(images) == 20
    for path in images:
        with pytest.raises(ValueError, match="no pixel size in the file"):
            read_micrograph(path)
        m = read_micrograph(path, pixel_size=0.1)
        assert m.frames.shape == (1, 256, 256)
        assert 0 <= m.frames.min() < m.frames.max() <= 255


@pytest.mark.parametrize("pixel_size, origin, fix", [(50.0, "cli", "--pixel-size"), (0.0001, "sheet", "sample sheet"), (5.01, "argument", "read_micrograph")])
def test_a_pixel_size_outside_atomic_scales_is_refused_before_any_rescaling(tmp_path, image, pixel_size, origin, fix):
    # --pixel-size 50 once tried to allocate 112 GiB; 0.0001 was reported as "a constant channel"
    with pytest.raises(ValueError, match=rf"a\.npy: pixel size given: {pixel_size:g} Å/px is outside the 0\.005-5\.0 Å/px .*{fix}"):
        read_micrograph(write_npy(tmp_path / "a.npy", image), pixel_size=pixel_size, pixel_size_from=origin)
    assert read_micrograph(tmp_path / "a.npy", pixel_size=4.99).sampling == 4.99
    with pytest.raises(ValueError, match="is outside"):  # up front: before looking for the file
        read_micrograph(tmp_path / "missing.npy", pixel_size=pixel_size)


def test_a_file_calibration_outside_atomic_scales_is_refused(tmp_path, image):
    with pytest.raises(ValueError, match=r"c\.tif: pixel size in the file: 10 Å/px is outside .*sample sheet"):
        read_micrograph(write_tiff(tmp_path / "c.tif", image, scale=1.0, units="nm"), pixel_size_from="sheet")
