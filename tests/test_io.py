import numpy as np
import pandas as pd
import pytest

from atomscope import __version__
from atomscope.io import read_arrays, read_table, read_table_meta, write_arrays, write_table


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
