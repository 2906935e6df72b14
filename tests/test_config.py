"""The config schema is the single source of defaults: config.yaml and the CLI must agree with it."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from atomscope.cli import build_parser
from atomscope.config import SCHEMA_PATH, defaults

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = str(SCHEMA_PATH)
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def _schema_defaults() -> dict:
    config = {"samples": "config/samples.tsv", "datasets": copy.deepcopy(CONFIG["datasets"])}
    for key in ("structures", "simulation", "training", "inference", "evaluation", "geometry", "motifs", "report"):
        config[key] = {}
    validate(config, SCHEMA, set_default=True)
    return config


def _fill_nested(config: dict) -> dict:
    """Validate again so nested sections (e.g. training.validation) get their defaults too."""
    validate(config, SCHEMA, set_default=True)
    return config


def test_default_config_equals_schema_defaults():
    assert _fill_nested(_schema_defaults()) == CONFIG


@pytest.mark.parametrize("section", ["structures", "simulation", "training", "inference", "evaluation", "geometry", "motifs", "report"])
def test_library_defaults_are_what_snakemake_fills_in_from_the_schema(section):
    assert defaults(section) == _fill_nested(_schema_defaults())[section]


def test_library_defaults_are_fresh_copies_and_unknown_sections_are_named():
    defaults("simulation")["artefacts"]["blur"] = 99.0
    assert defaults("simulation")["artefacts"]["blur"] == 0.0
    with pytest.raises(KeyError, match="no section 'simulations'.*simulation"):
        defaults("simulations")


def test_cli_defaults_equal_schema_defaults():
    defaults = _fill_nested(_schema_defaults())
    args = build_parser().parse_args(["analyse", "x.tif", "--model", "m.pt"])
    assert args.threshold == defaults["inference"]["threshold"]
    assert args.min_distance == defaults["inference"]["min_distance"]
    assert args.tile_px == defaults["inference"]["tile_px"]
    assert args.overlap_px == defaults["inference"]["overlap_px"]
    assert (args.min_bond, args.max_bond) == (defaults["geometry"]["min_bond"], defaults["geometry"]["max_bond"])


@pytest.mark.parametrize(
    "section, key, value, message",
    [
        ("structures", "material", "unobtainium", "unobtainium"),
        ("structures", "cell", [-10.0, 40.0], "-10.0"),
        ("simulation", "target_sigma", 0.0, "target_sigma|0.0"),
        ("training", "steps", 0, "steps|0"),
        ("report", "colour", "red", "colour"),
    ],
)
def test_bad_config_fails_validation_naming_the_value(section, key, value, message):
    config = copy.deepcopy(CONFIG)
    config[section][key] = value
    with pytest.raises(WorkflowError, match=message):
        validate(config, SCHEMA)


def test_sample_sheet_schema_rejects_bad_names_and_pixel_sizes():
    schema = str(ROOT / "workflow" / "schemas" / "samples.schema.yaml")
    good = pd.DataFrame({"sample": ["a_1"], "path": ["x.tif"], "pixel_size": [0.1], "truth": [None]})
    validate(good, schema)
    with pytest.raises(WorkflowError):
        validate(good.assign(sample=["bad name"]), schema)
    with pytest.raises(WorkflowError):
        validate(good.assign(pixel_size=[-0.1]), schema)
