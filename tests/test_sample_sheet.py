"""The sample sheet: one reading of "not given" for every optional column, clear errors otherwise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from atomscope.io import read_sample_sheet

ROOT = Path(__file__).resolve().parents[1]


def write_sheet(path: Path, *rows: str) -> Path:
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("empty", ["", " ", "  ", "NA", "NaN", "nan", "None", "null", "N/A", "<NA>"])
def test_every_spelling_of_empty_is_none(tmp_path, empty):
    sheet = read_sheet_row(tmp_path, f"a\tx.dm3\t{empty}\t{empty}")
    assert sheet.loc["a", "pixel_size"] is None and sheet.loc["a", "truth"] is None


def read_sheet_row(tmp_path: Path, row: str):
    return read_sample_sheet(write_sheet(tmp_path / "s.tsv", "sample\tpath\tpixel_size\ttruth", row))


def test_absent_optional_columns_are_none(tmp_path):
    sheet = read_sample_sheet(write_sheet(tmp_path / "s.tsv", "sample\tpath", "a\tx.dm3", "b\ty.tif"))
    assert list(sheet.columns) == ["sample", "path", "pixel_size", "truth", "model", "elements"]
    assert sheet["pixel_size"].tolist() == [None, None] and sheet["truth"].tolist() == [None, None]
    assert sheet["model"].tolist() == [None, None] and sheet["elements"].tolist() == [None, None]


def test_a_sample_names_its_model(tmp_path):
    sheet = read_sample_sheet(write_sheet(tmp_path / "s.tsv", "sample\tpath\tmodel", "a\tx.npy\tcarbon_stem", "b\ty.tif\t"))
    assert sheet["model"].tolist() == ["carbon_stem", None]


def test_given_values_keep_their_types_beside_empty_ones(tmp_path):
    sheet = read_sample_sheet(
        write_sheet(
            tmp_path / "s.tsv",
            "# images to analyse",
            "sample\tpath\tpixel_size\ttruth\tnote",
            "sim\tsim.tif\t\tsim.truth.parquet\tsimulated",
            "real_ghd\t../shared/data/graphene_hrtem_defect.tif\t0.108\t\t",
            "real_mos2\t../shared/data/mos2_se_implanted_stem.dm3\t\t\t",
        )
    )
    assert list(sheet.index) == ["sim", "real_ghd", "real_mos2"]
    assert sheet["pixel_size"].tolist() == [None, 0.108, None]
    assert sheet["truth"].tolist() == ["sim.truth.parquet", None, None]
    assert sheet["note"].tolist() == ["simulated", "", ""]
    # the workflow asks "has truth?" by `is not None`: a NaN here would schedule an evaluate job
    assert [name for name in sheet.index if sheet.loc[name, "truth"] is not None] == ["sim"]


def test_reordered_columns_are_read_by_name(tmp_path):
    sheet = read_sample_sheet(write_sheet(tmp_path / "s.tsv", "truth\tpixel_size\tpath\tsample", "\t0.2\tx.npy\ta"))
    assert sheet.loc["a", "pixel_size"] == 0.2 and sheet.loc["a", "path"] == "x.npy" and sheet.loc["a", "truth"] is None


@pytest.mark.parametrize("bad", ["abc", "0", "-0.1", "inf", "0,108"])
def test_a_pixel_size_that_is_not_a_positive_number_names_sheet_sample_and_fix(tmp_path, bad):
    with pytest.raises(ValueError, match=rf"s\.tsv: sample 'a' has pixel_size '{bad}'; write a positive number of Å/px"):
        read_sheet_row(tmp_path, f"a\tx.npy\t{bad}\t")


def test_missing_required_column_or_value_and_duplicates_are_errors(tmp_path):
    with pytest.raises(ValueError, match=r"s\.tsv: the sample sheet lacks the columns \['path'\]"):
        read_sample_sheet(write_sheet(tmp_path / "s.tsv", "sample\tpixel_size", "a\t0.1"))
    with pytest.raises(ValueError, match=r"s\.tsv: rows \[3\] have no `path`"):
        read_sample_sheet(write_sheet(tmp_path / "s.tsv", "sample\tpath", "a\tx.tif", "b\t"))
    with pytest.raises(ValueError, match=r"sample names \['a'\] appear more than once"):
        read_sample_sheet(write_sheet(tmp_path / "s.tsv", "sample\tpath", "a\tx.tif", "a\ty.tif"))
    with pytest.raises(FileNotFoundError, match=r"nope\.tsv: no such sample sheet"):
        read_sample_sheet(tmp_path / "nope.tsv")


def test_the_shipped_sheet_reads_with_truth_and_without_pixel_sizes():
    sheet = read_sample_sheet(ROOT / "config" / "samples.tsv")
    assert all(truth.endswith(".truth.parquet") for truth in sheet["truth"])
    assert all(size is None for size in sheet["pixel_size"])


def test_auto_pixel_sizes_stay_text_for_the_reader_and_pass_the_schema(tmp_path):
    from snakemake.utils import validate

    sheet = read_sample_sheet(write_sheet(tmp_path / "s.tsv", "sample\tpath\tpixel_size", "a\tx.png\tauto:graphene", "b\ty.png\tAUTO:3.16", "c\tz.tif\t0.1"))
    assert sheet["pixel_size"].tolist() == ["auto:graphene", "AUTO:3.16", 0.1]
    validate(sheet.copy(), str(ROOT / "workflow" / "schemas" / "samples.schema.yaml"))


@pytest.mark.parametrize("bad", ["50", "0.0001", "1e9"])
def test_a_pixel_size_outside_atomic_scales_stops_the_sheet_naming_the_range(tmp_path, bad):
    # --pixel-size 50 once tried to allocate 112 GiB; the sheet refuses it before any job runs
    with pytest.raises(ValueError, match=rf"s\.tsv: sample .a. has pixel_size .{bad}.; {re.escape(f'{float(bad):g}')} Å/px is outside the 0\.005-5\.0 Å/px"):
        read_sheet_row(tmp_path, f"a\tx.npy\t{bad}\t")
    assert read_sheet_row(tmp_path, "a\tx.npy\t0.005\t").loc["a", "pixel_size"] == 0.005


def test_a_sample_names_its_elements_for_the_species_classes(tmp_path):
    from snakemake.utils import validate

    sheet = read_sample_sheet(write_sheet(tmp_path / "s.tsv", "sample\tpath\telements", "a\tx.dm3\tMo, S,Se", "b\ty.tif\t"))
    assert sheet["elements"].tolist() == ["Mo,S,Se", None]
    validate(sheet.copy(), str(ROOT / "workflow" / "schemas" / "samples.schema.yaml"))
    with pytest.raises(ValueError, match=r"s\.tsv: sample 'a' has elements 'Mo;S'; Mo;S: not chemical symbols; give e\.g\. Mo,S,Se"):
        read_sample_sheet(write_sheet(tmp_path / "s.tsv", "sample\tpath\telements", "a\tx.dm3\tMo;S"))
