"""The configuration schema, shipped with the package: the one place where defaults are written.

The workflow validates its config against :data:`SCHEMA_PATH`; the library and the command
line take their defaults from :func:`defaults`, so a default changes in the schema alone.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from atomscope._shared.config import with_defaults

__all__ = ["SCHEMA_PATH", "defaults", "with_defaults"]

#: The JSON Schema (YAML) of the workflow's config, with a description and a default per key.
SCHEMA_PATH = Path(__file__).with_name("schemas") / "config.schema.yaml"


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))


def defaults(section: str) -> dict[str, Any]:
    """Every default of one config section (e.g. ``"structures"``), nested sections filled in.

    The result equals what Snakemake's ``validate(..., set_default=True)`` fills into an empty
    section: an object's own default first, then the defaults of its properties for the keys
    it lacks. A new dict each call.

    Raises
    ------
    KeyError
        If the schema has no section ``section``.
    """
    properties = _schema()["properties"]
    if section not in properties:
        raise KeyError(f"the config schema has no section {section!r}; it has {sorted(properties)}")
    return _defaults_of(properties[section])


def _defaults_of(schema: Mapping[str, Any]) -> Any:
    value = copy.deepcopy(schema.get("default"))
    if "properties" not in schema:
        return value
    value = {} if value is None else value
    for key, sub in schema["properties"].items():
        if "default" not in sub and "properties" not in sub:
            continue
        nested = _defaults_of(sub)
        if key not in value:
            value[key] = nested
        elif isinstance(value[key], Mapping) and isinstance(nested, Mapping):
            value[key] = with_defaults(value[key], nested)
    return value
