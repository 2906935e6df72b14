"""Motifs of one sample: atom-centred patches -> Zernike features -> FR layout -> motif labels."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from atomscope._shared.seeding import stage_rng
from atomscope.motifs.layout import class_distances, force_relaxed_layout, motif_labels
from atomscope.motifs.patches import extract_patches
from atomscope.motifs.zernike import zernike_indices, zernike_moments

__all__ = ["analyse_motifs"]


def analyse_motifs(
    images: np.ndarray, sampling: float, sites: pd.DataFrame, config: Mapping[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Zernike features and motif labels of the atoms of all frames, pooled in one layout.

    Parameters
    ----------
    images : ndarray (F, H, W)
        Preprocessed frames at ``sampling`` [Å/px] (the inference maps' images).
    sites : pandas.DataFrame
        Sites contract (``frame``, ``kind``, ``x``, ``y`` [Å]); atoms are described.
    config : mapping
        The ``motifs`` config section (patch_size [Å], n_max, n_neighbors, n_negative,
        n_motifs, seed).

    Returns
    -------
    features : pandas.DataFrame
        One row per atom with a patch: ``frame``, ``site`` (row within the frame's sites),
        ``x``, ``y`` [Å], ``rotation_invariant`` and one column ``Z{n}_{m}`` per moment.
    motifs : pandas.DataFrame
        ``frame``, ``site``, ``x``, ``y``, ``layout_x``, ``layout_y``, ``motif``, ``distance``
        (to the motif's class average in feature space).
    """
    size_px = 2 * int(round(config["patch_size"] / sampling / 2)) + 1
    rows, vectors = [], []
    for frame, part in sites.groupby("frame", sort=True):
        part = part.reset_index(drop=True)
        atoms = part[part["kind"] == "atom"]
        patches, kept = extract_patches(
            images[frame], atoms["x"].to_numpy() / sampling, atoms["y"].to_numpy() / sampling, size_px=size_px
        )
        chosen = atoms.iloc[kept]
        rows.append(pd.DataFrame({"frame": frame, "site": chosen.index.to_numpy(), "x": chosen["x"].to_numpy(), "y": chosen["y"].to_numpy()}))
        vectors.append(zernike_moments(patches, n_max=config["n_max"], rotation_invariant=True))
    table = pd.concat(rows, ignore_index=True)
    moments = np.concatenate(vectors)
    if len(table) <= config["n_neighbors"]:
        raise ValueError(
            f"only {len(table)} atoms have a full {config['patch_size']} Å patch, too few for "
            f"n_neighbors={config['n_neighbors']}: lower motifs.patch_size or check the detections"
        )
    names = [f"Z{n}_{m}" for n, m in zernike_indices(config["n_max"], rotation_invariant=True)]
    features = pd.concat([table.assign(rotation_invariant=True), pd.DataFrame(moments, columns=names)], axis=1)
    layout = force_relaxed_layout(
        moments, n_neighbors=config["n_neighbors"], n_negative=config["n_negative"], rng=stage_rng(config["seed"], "motifs")
    )
    labels = motif_labels(layout, n_motifs=config["n_motifs"], rng=stage_rng(config["seed"], "motifs", 1))
    motifs = table.assign(
        layout_x=layout[:, 0], layout_y=layout[:, 1], motif=labels, distance=class_distances(moments, labels)
    )
    return features, motifs
