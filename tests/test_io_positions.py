"""Position lists from and to other tools: CSV, Parquet, Atomap HDF5, extended XYZ."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from atomscope.geometry import triangulate
from atomscope.io import read_positions, write_csv, write_extxyz, write_table

BOND = 1.42


def honeycomb(cells: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) [Å] of the atoms of a graphene patch and of its hexagons' centres."""
    a1, a2 = np.array([1.5, np.sqrt(3) / 2]) * BOND, np.array([1.5, -np.sqrt(3) / 2]) * BOND
    i, j = np.meshgrid(np.arange(cells), np.arange(cells))
    origins = i.reshape(-1, 1) * a1 + j.reshape(-1, 1) * a2 + [0.0, 10.0]
    return np.concatenate([origins, origins + [BOND, 0.0]]), origins + [2 * BOND, 0.0]


def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_csv_in_angstrom_gives_sites_that_triangulate_into_hexagons(tmp_path):
    atoms, centres = honeycomb()
    table = pd.DataFrame({"x": np.r_[atoms[:, 0], centres[:, 0]], "y": np.r_[atoms[:, 1], centres[:, 1]]})
    table["kind"] = ["atom"] * len(atoms) + ["centre"] * len(centres)
    table.to_csv(tmp_path / "p.csv", index=False)
    sites = read_positions(tmp_path / "p.csv")
    assert list(sites.columns) == ["frame", "kind", "x", "y", "species"]
    assert sites["frame"].tolist() == [0] * 48 and set(sites["species"]) == {""}
    np.testing.assert_allclose(sites[["x", "y"]].to_numpy(), table[["x", "y"]].to_numpy())
    rings = triangulate(sites).rings
    assert (rings.loc[rings["complete"], "size"] == 6).sum() >= 4  # the inner hexagons


def test_pixel_positions_are_scaled_by_the_pixel_size(tmp_path):
    path = write_text(tmp_path / "p.csv", "x,y,species,frame\n10,20,Mo,0\n30.5,40,S,1\n")
    sites = read_positions(path, pixel_size=0.127)
    np.testing.assert_allclose(sites[["x", "y"]].to_numpy(), [[1.27, 2.54], [3.8735, 5.08]])
    assert sites["species"].tolist() == ["Mo", "S"] and sites["frame"].tolist() == [0, 1] and set(sites["kind"]) == {"atom"}


def test_atomscope_sites_csv_reads_back_from_angstrom_or_from_its_pixel_columns(tmp_path):
    sites = pd.DataFrame({"frame": [0, 0], "kind": ["atom", "centre"], "x_px": [10.0, 20.0], "y_px": [5.0, 6.0], "x": [1.1, 2.2],
                          "y": [0.55, 0.66], "score": [0.9, 0.8], "species": ["C", ""]})
    write_csv(sites, tmp_path / "sites.csv")
    back = read_positions(tmp_path / "sites.csv")
    pd.testing.assert_frame_equal(back[["frame", "kind", "x", "y", "species", "score"]], sites[["frame", "kind", "x", "y", "species", "score"]].fillna(""))
    # with a pixel size, the pixel columns are read, not x, y
    np.testing.assert_allclose(read_positions(tmp_path / "sites.csv", pixel_size=0.2)[["x", "y"]].to_numpy(), [[2.0, 1.0], [4.0, 1.2]])


def test_write_csv_writes_ring_members_as_space_separated_values(tmp_path):
    write_csv(pd.DataFrame({"centre": [7], "size": [3], "members": [np.array([1, 2, 5])]}), tmp_path / "rings.csv")
    assert (tmp_path / "rings.csv").read_text() == "centre,size,members\n7,3,1 2 5\n"


def test_a_parquet_in_angstrom_refuses_a_pixel_size(tmp_path):
    write_table(pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0], "kind": ["atom", "atom"]}), tmp_path / "s.parquet", units={"x": "Å", "y": "Å"})
    assert read_positions(tmp_path / "s.parquet")["x"].tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"s\.parquet: `x`, `y` are in Å \(the file's metadata says so\); leave out the pixel size"):
        read_positions(tmp_path / "s.parquet", pixel_size=0.1)


@pytest.mark.parametrize(
    ("text", "pixel_size", "match"),
    [
        ("a,b\n1,2\n", None, r"p\.csv: no `x` and `y` columns \(it has \['a', 'b'\]\)$"),
        ("x_px,y_px\n1,2\n", None, r"p\.csv: no `x` and `y` columns .*they are in px \(x_px, y_px\): give the pixel size \(Å/px\)"),
        ("X,Y\n1,2\n", 0.1, r"no `x` and `y` \(or `x_px` and `y_px`\) columns; it has \['X', 'Y'\]"),
        ("x,y\n1,2\n3,abc\nnan,4\n", None, r"p\.csv: 1 rows \(the first: row 3\) have no finite number in `x`"),
        ("x,y,kind\n1,2,atom\n3,4,vacancy\n", None, r"kinds \['vacancy'\] in the `kind` column; atomscope knows \['atom', 'centre'\]"),
        ("x,y,frame\n1,2,0.5\n", None, r"the `frame` column must hold whole numbers"),
        ("x,y\n", None, r"p\.csv: holds no positions"),
        ("x,y\n1,2\n", 50.0, r"p\.csv: pixel size given: 50 Å/px is outside the 0\.005-5\.0 Å/px"),
    ],
    ids=["no-xy", "px-without-pixel-size", "upper-case", "not-a-number", "unknown-kind", "fractional-frame", "empty", "absurd-pixel-size"],
)
def test_bad_position_lists_name_the_file_the_problem_and_the_fix(tmp_path, text, pixel_size, match):
    with pytest.raises(ValueError, match=match):
        read_positions(write_text(tmp_path / "p.csv", text), pixel_size=pixel_size)


def test_missing_file_and_unknown_extension(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv: no such file"):
        read_positions(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match=r"p\.txt: unsupported position list '\.txt'; write it as one of \.csv, \.parquet, \.hdf5, \.h5, \.extxyz, \.xyz"):
        read_positions(write_text(tmp_path / "p.txt", "x,y\n1,2\n"))


def write_atomap(path: Path, sublattices: dict[str, np.ndarray], *, pixel_size: float = 1.0) -> Path:
    """An Atom_Lattice file in the layout of Atomap's save_atom_lattice_to_hdf5 (atomap/io.py):
    a group '<name>_sublattice' per sublattice with atom_positions (N, 2) = (x, y) [px], sigma_x,
    sigma_y, rotation, the image data, and the attributes pixel_size, name, plot_color,
    sublattice_index; image_data0 and the lattice's name at the root."""
    image = np.zeros((64, 64), np.float32)
    with h5py.File(path, "w") as f:
        for index, (name, xy) in reversed(list(enumerate(sublattices.items()))):  # stored out of order
            group = f.create_group(f"{name}_sublattice")
            group.create_dataset("atom_positions", data=xy, chunks=True, compression="gzip")
            for key in ("sigma_x", "sigma_y", "rotation"):
                group.create_dataset(key, data=np.ones(len(xy)))
            group.create_dataset("modified_image_data", data=image)
            group.create_dataset("original_image_data", data=image)
            group.attrs.update({"pixel_size": pixel_size, "pixel_separation": 5.0, "name": name, "plot_color": "red", "sublattice_index": index})
            group.attrs["zone_axis_names_byte"] = [b"(0, 1)"]
        f.create_dataset("image_data0", data=image)
        f.attrs.update({"name": "lattice", "pixel_separation": 5.0})
    return path


def test_an_atomap_file_reads_every_sublattice_in_its_order(tmp_path):
    mo, s2 = np.array([[10.0, 12.0], [20.0, 12.0]]), np.array([[15.0, 15.0]])
    path = write_atomap(tmp_path / "lattice.hdf5", {"Mo": mo, "S2": s2}, pixel_size=0.0127)
    sites = read_positions(path, pixel_size=0.127)
    np.testing.assert_allclose(sites[["x", "y"]].to_numpy(), np.r_[mo, s2] * 0.127)
    assert sites["sublattice"].tolist() == ["Mo", "Mo", "S2"]
    assert sites["species"].tolist() == ["Mo", "Mo", ""]  # S2 is a column of two S atoms, no one element
    assert set(sites["kind"]) == {"atom"}
    with pytest.raises(ValueError, match=r"lattice\.hdf5: Atomap stores positions in px and its pixel_size attribute \(0\.0127\) has no unit; give the pixel size"):
        read_positions(path)


def test_an_hdf5_file_without_sublattices_is_not_taken_for_atomap(tmp_path):
    with h5py.File(tmp_path / "image.hdf5", "w") as f:
        f.create_dataset("Experiments/image/data", data=np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"image\.hdf5: no Atomap sublattices \(groups with `atom_positions`\)"):
        read_positions(tmp_path / "image.hdf5", pixel_size=0.1)


def test_extxyz_round_trips_through_ase(tmp_path):
    from ase.io import read

    rng = np.random.default_rng(0)
    sites = pd.DataFrame({"frame": [0] * 5 + [3] * 2, "kind": ["atom"] * 4 + ["centre", "atom", "atom"], "x": rng.uniform(0, 50, 7),
                          "y": rng.uniform(0, 50, 7), "species": ["Mo", "S", "", "S", "", "", "W"], "score": rng.uniform(0, 1, 7)})
    write_extxyz(sites, tmp_path / "sites.extxyz")
    images = read(tmp_path / "sites.extxyz", index=":")
    assert [len(atoms) for atoms in images] == [5, 2] and [atoms.info["frame"] for atoms in images] == [0, 3]
    assert images[0].get_chemical_symbols() == ["Mo", "S", "C", "S", "X"] and images[1].get_chemical_symbols() == ["C", "W"]
    positions = np.concatenate([atoms.positions for atoms in images])
    np.testing.assert_allclose(positions[:, :2], sites[["x", "y"]].to_numpy(), atol=1e-6)
    assert np.all(positions[:, 2] == 0)
    back = read_positions(tmp_path / "sites.extxyz")
    np.testing.assert_allclose(back[["x", "y"]].to_numpy(), sites[["x", "y"]].to_numpy(), atol=1e-6)
    assert back["kind"].tolist() == sites["kind"].tolist() and back["frame"].tolist() == sites["frame"].tolist()
    assert back["species"].tolist() == ["Mo", "S", "C", "S", "", "C", "W"]  # an unknown atom was written as C
    with pytest.raises(ValueError, match=r"sites\.extxyz: extended XYZ positions are in Å; leave out the pixel size"):
        read_positions(tmp_path / "sites.extxyz", pixel_size=0.1)
