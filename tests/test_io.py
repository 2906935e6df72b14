import numpy as np
import pandas as pd
import pytest

from atomscope import __version__
from atomscope.io import ImageGrid, read_arrays, read_table, read_table_meta, write_arrays, write_table


def test_table_round_trip_carries_version_config_and_units(tmp_path):
    df = pd.DataFrame({"x": [1.0, 2.5], "kind": ["atom", "centre"], "members": [[1, 2], [3]]})
    path = tmp_path / "t.parquet"
    write_table(df, path, config={"a": 1}, units={"x": "Å"})
    pd.testing.assert_frame_equal(read_table(path), df)
    meta = read_table_meta(path)
    assert meta == {"atomscope_version": __version__, "config": {"a": 1}, "units": {"x": "Å"}}


def test_read_table_names_the_file_and_missing_columns(tmp_path):
    path = tmp_path / "t.parquet"
    write_table(pd.DataFrame({"x": [1.0]}), path)
    with pytest.raises(ValueError, match=r"t\.parquet: table lacks the columns \['y'\]"):
        read_table(path, columns=["x", "y"])
    with pytest.raises(FileNotFoundError, match="nope.parquet"):
        read_table(tmp_path / "nope.parquet")


def test_arrays_round_trip(tmp_path):
    path = tmp_path / "a.h5"
    images = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)
    write_arrays(path, {"images": images}, attrs={"names": ["a", "b"]}, units={"images": "1"})
    arrays, attrs = read_arrays(path)
    np.testing.assert_array_equal(arrays["images"], images)
    assert attrs["names"] == ["a", "b"] and attrs["units"] == {"images": "1"}


def test_failed_write_leaves_nothing_behind(tmp_path):
    path = tmp_path / "bad.parquet"
    with pytest.raises(Exception):
        write_table(pd.DataFrame({"x": [object()]}), path)
    assert list(tmp_path.iterdir()) == []


def test_image_grid_places_pixel_centres_at_whole_multiples_of_the_sampling():
    grid = ImageGrid((30, 70), 0.137)  # non-square, non-round pixel size
    assert grid.extent == pytest.approx((70 * 0.137, 30 * 0.137))
    assert grid.region() == pytest.approx((-0.0685, 69.5 * 0.137, -0.0685, 29.5 * 0.137))
    assert grid.region(1.0) == pytest.approx((0.9315, 69.5 * 0.137 - 1, 0.9315, 29.5 * 0.137 - 1))
    left, right, bottom, top = grid.imshow_extent()
    assert (left, right, bottom, top) == pytest.approx((-0.0685, 69.5 * 0.137, 29.5 * 0.137, -0.0685))
    x, y = grid.to_angstrom(np.array([12.0, 69.0]), np.array([7.0, 29.0]))
    np.testing.assert_allclose([x, y], [[1.644, 9.453], [0.959, 3.973]])
    np.testing.assert_allclose(grid.to_px(x, y), [[12.0, 69.0], [7.0, 29.0]])
    # the last pixel's centre is inside, half a pixel beyond its outer edge is not
    assert grid.contains([69 * 0.137, 69.5 * 0.137 + 1e-9, -0.06, -0.07], [29 * 0.137, 0.0, 0.0, 0.0]).tolist() == [True, False, True, False]
    assert ImageGrid.from_attrs(grid.to_attrs()) == grid
    # nearest pixel centres, clipped into the grid: 1.644 Å is column 12, 1.71 Å (12.48 px) too
    rows, cols = grid.nearest_pixel([1.644, 1.71, -3.0, 99.0], [0.959, 0.0, 0.0, 99.0])
    assert rows.tolist() == [7, 0, 0, 29] and cols.tolist() == [12, 12, 0, 69]


@pytest.mark.parametrize("shape, sampling", [((0, 5), 0.1), ((5,), 0.1), ((5, 5), 0.0), ((5, 5), float("nan")), ((5.5, 5), 0.1)])
def test_image_grid_rejects_bad_shapes_and_pixel_sizes(shape, sampling):
    with pytest.raises(ValueError, match="shape|sampling"):
        ImageGrid(shape, sampling)
