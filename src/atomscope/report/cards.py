"""Model cards: what a shipped model is, how it was made and how well it does, in Markdown."""

from __future__ import annotations

import json
from typing import Mapping

import pandas as pd

from atomscope.io import ModelSpec

__all__ = ["model_card"]


def model_card(
    name: str,
    spec: ModelSpec,
    metrics: pd.DataFrame,
    *,
    wall_seconds: float,
    hardware: str,
    sections: Mapping[str, str] | None = None,
) -> str:
    """The Markdown card of a shipped model.

    Parameters
    ----------
    name : str
        The model's name (resources/models/<name>.safetensors).
    spec : ModelSpec
        Its spec (architecture, input, heads, pixel size, normalisation, recipe, scores).
    metrics : DataFrame
        Its validation rows (step, train_loss, seconds, <head>_f1 ...).
    wall_seconds : float
        Wall time of the train job [s] (Snakemake's benchmark file).
    hardware : str
        Where it trained, e.g. "2 CPU cores (x86_64), no GPU".
    sections : mapping, optional
        Further titled Markdown sections (scores by dose, real-image checks), in order.
    """
    recipe = spec.recipe
    training = dict(recipe.training or {})
    last = metrics.iloc[-1]
    scores = ", ".join(
        f"{key[:-3]} F1 {value:.3f}" if key.endswith("_f1") else f"{key[:-5]} RMSE {100 * value:.1f} pm"
        for key, value in spec.scores.items()
        if key.endswith(("_f1", "_rmse")) and value is not None  # an RMSE without matches is stored as null
    )
    heads = "; ".join(f"{h.name} ({h.kind}: {', '.join(c.name + ('=' + '/'.join(c.species) if c.species else '') for c in h.classes)})" for h in spec.heads)
    lines = [
        f"# Model card: {name}",
        "",
        f"- **File**: `resources/models/{name}.safetensors` (weights and spec; `atomscope.io.read_model`), learning curve "
        f"`{name}.metrics.parquet` and `{name}.png`.",
        f"- **Use**: `atomscope analyse IMAGE --model {name}`, or `model: {name}` in the sample sheet, or `training.model: {name}` in the config.",
        f"- **Architecture**: {spec.architecture} {json.dumps(dict(spec.architecture_args))}.",
        f"- **Input**: {', '.join(spec.channel_names)}, resampled to {spec.pixel_size:.4f} Å/px, normalisation `{spec.normalisation}`.",
        f"- **Heads**: {heads}.",
        f"- **Recipe**: `config/presets/{recipe.preset}.yaml` (data config SHA-256 `{recipe.data_hash}`), made with "
        f"`snakemake results/models/{name}/model.safetensors --cores all --configfile config/presets/{recipe.preset}.yaml`.",
        f"- **Training**: {training.get('steps')} steps of {training.get('batch_size')} crops of {training.get('crop_px')} px, "
        f"AdamW at {training.get('learning_rate')} (warm-up, cosine), seed {training.get('seed')}.",
        f"- **Hardware and wall time**: {hardware}; {wall_seconds / 60:.1f} min for the train job "
        f"({last['seconds'] / 60:.1f} min of it in the training loop).",
        f"- **Validation** (held-out simulated images of the recipe, at step {int(last['step'])}): {scores}.",
        "",
        f"![learning curve]({name}.png)",
    ]
    for title, body in (sections or {}).items():
        lines += ["", f"## {title}", "", body.strip()]
    return "\n".join(lines) + "\n"
