"""Networks from model files: the architecture a :class:`atomscope.io.ModelSpec` names, with
the weights of the file (read by :func:`atomscope.io.read_model`, which never unpickles)."""

from __future__ import annotations

import os
from typing import Any, Mapping

import torch
from torch import nn

from atomscope.io import ModelSpec, read_model
from atomscope.nets.unet import build_network

__all__ = ["network_from_spec", "load_model"]


def network_from_spec(spec: ModelSpec, state_dict: Mapping[str, Any] | None = None) -> nn.Module:
    """The network ``spec`` describes, with ``state_dict``'s weights if given, in eval mode.

    Raises
    ------
    ValueError
        If the weights do not fit the architecture (missing, extra or mis-shaped tensors).
    """
    net = build_network({"kind": spec.architecture, **spec.architecture_args}, spec.network_in_channels, spec.out_channels)
    if state_dict is not None:
        try:
            net.load_state_dict(state_dict)
        except RuntimeError as error:
            raise ValueError(f"the weights do not fit a {spec.architecture} with {dict(spec.architecture_args)}: {error}") from None
    return net.eval()


def load_model(path: str | os.PathLike, *, device: torch.device | str = "cpu") -> tuple[ModelSpec, nn.Module]:
    """Read a model file and rebuild its network on ``device`` in eval mode.

    Errors name the file: see :func:`atomscope.io.read_model` for files that are not
    models (or are pickles, which are refused unread).
    """
    spec, state = read_model(path)
    try:
        net = network_from_spec(spec, state)
    except ValueError as error:
        raise ValueError(f"{path}: {error}; retrain it with the train rule") from None
    return spec, net.to(device)
