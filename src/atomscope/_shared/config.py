"""Config sections with their defaults filled in, so the library runs from a partial section too."""

from __future__ import annotations

import copy
from typing import Any, Mapping

__all__ = ["with_defaults"]


def with_defaults(config: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` merged over a deep copy of ``defaults``, nested sections key by key.

    A nested section of the defaults that is empty (e.g. ``substitutions: {}``) is a value,
    not a section: the config's mapping replaces it whole.
    """
    out = copy.deepcopy(dict(defaults))
    for key, value in config.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) and out[key]:
            out[key] = with_defaults(value, out[key])
        else:
            out[key] = copy.deepcopy(value)
    return out
