"""Motifs of one sample: raw atom-centred patches -> Zernike features -> 2D layout -> motif labels."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from atomscope._shared.seeding import stage_rng
from atomscope.config import defaults, with_defaults
from atomscope.motifs.labels import class_averages, class_distances, motif_labels
from atomscope.motifs.layout import layout_features
from atomscope.motifs.patches import extract_patches, normalise_image, repeat_length
from atomscope.motifs.zernike import mirror_symmetry, rotational_symmetry, zernike_indices, zernike_moments

__all__ = ["SYMMETRY_FOLDS", "analyse_motifs", "patch_size_px", "symmetry_scores"]


def patch_size_px(patch_size: float | str, sampling: float, sites: pd.DataFrame) -> int:
    """Odd patch side [px] from ``patch_size`` [Å], or from the atoms' repeat length for 'auto'.

    For ``'auto'`` the side is the median over frames of :func:`repeat_length` of the atoms
    (Dan et al.: the patch side matches the length of the repeating unit).

    Parameters
    ----------
    patch_size : float or 'auto'
        Side of the patches [Å].
    sampling : float
        Pixel size [Å/px].
    sites : pandas.DataFrame
        Sites contract (``frame``, ``kind``, ``x``, ``y`` [Å]).

    Returns
    -------
    int
        Odd side length >= 3 [px].
    """
    if patch_size == "auto":
        atoms = sites[sites["kind"] == "atom"]
        lengths = [repeat_length(part["x"].to_numpy(), part["y"].to_numpy()) for _, part in atoms.groupby("frame") if len(part) > 6]
        if not lengths:
            raise ValueError("motifs.patch_size 'auto' needs a frame with more than 6 atoms; set patch_size in Å")
        patch_size = float(np.median(lengths))
    return max(3, 2 * int(round(float(patch_size) / sampling / 2)) + 1)


#: n of the n-fold rotational symmetry scores in the motifs table (columns ``rot{n}``).
SYMMETRY_FOLDS = (2, 3, 4, 6)


def symmetry_scores(patches: np.ndarray, n_max: int) -> dict[str, np.ndarray]:
    """Per patch: n-fold rotational symmetry scores ``rot{n}``, mirror score ``mirror`` and its
    axis ``mirror_axis`` [rad], all from the oriented Zernike moments (the maps of Dan et al. Fig. 2)."""
    oriented = zernike_moments(patches, n_max=n_max, rotation_invariant=False)
    rotation = rotational_symmetry(oriented, n_max, SYMMETRY_FOLDS)
    mirror, axis = mirror_symmetry(oriented, n_max)
    return {**{f"rot{n}": rotation[:, k] for k, n in enumerate(SYMMETRY_FOLDS)}, "mirror": mirror, "mirror_axis": axis}


def analyse_motifs(
    images: np.ndarray, sampling: float, sites: pd.DataFrame, config: Mapping[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """Zernike features and motif labels of the atoms of all frames, pooled in one layout.

    Each frame is normalised as a whole (:func:`normalise_image`, after subtracting a
    ``background`` blur if set) and raw patches are cut from it at the sites' sub-pixel
    positions, so brightness differences between columns stay in the features (Dan et al.).
    The features are the rotation-invariant moduli or, with ``rotation_invariant: false``,
    the oriented moments.

    Parameters
    ----------
    images : ndarray (F, H, W)
        Preprocessed frames at ``sampling`` [Å/px] (the inference maps' images).
    sites : pandas.DataFrame
        Sites contract (``frame``, ``kind``, ``x``, ``y`` [Å]); atoms are described.
    config : mapping
        The ``motifs`` config section; missing keys take the schema defaults.

    Returns
    -------
    features : pandas.DataFrame
        One row per atom with a patch: ``frame``, ``site`` (row within the frame's sites),
        ``x``, ``y`` [Å], ``rotation_invariant`` and one column ``Z{n}_{m}`` per moment (m >= 0
        for the invariants; m signed, -: sine, +: cosine, for the oriented moments).
    motifs : pandas.DataFrame
        ``frame``, ``site``, ``x``, ``y``, ``layout_x``, ``layout_y``, ``motif``, ``distance``
        (to the motif's class average in feature space) and the symmetry scores of
        :func:`symmetry_scores` (``rot2``, ``rot3``, ``rot4``, ``rot6``, ``mirror``, ``mirror_axis``).
    averages : dict of ndarray
        ``patches`` (K, S, S): the class-average patch of each motif; ``motif`` (K,): its
        label; ``count`` (K,): its number of atoms.
    """
    config = with_defaults(dict(config), defaults("motifs"))
    size_px = patch_size_px(config["patch_size"], sampling, sites)
    rows, patches = [], []
    for frame, part in sites.groupby("frame", sort=True):
        part = part.reset_index(drop=True)
        atoms = part[part["kind"] == "atom"]
        background = None if config["background"] is None else config["background"] / sampling
        cut, kept = extract_patches(
            normalise_image(images[frame], background_px=background), atoms["x"].to_numpy() / sampling, atoms["y"].to_numpy() / sampling, size_px=size_px
        )
        chosen = atoms.iloc[kept]
        rows.append(pd.DataFrame({"frame": frame, "site": chosen.index.to_numpy(), "x": chosen["x"].to_numpy(), "y": chosen["y"].to_numpy()}))
        patches.append(cut)
    table = pd.concat(rows, ignore_index=True)
    patches = np.concatenate(patches)
    if len(table) <= config["n_neighbors"]:
        raise ValueError(
            f"only {len(table)} atoms have a full {size_px} px patch, too few for "
            f"n_neighbors={config['n_neighbors']}: lower motifs.patch_size or check the detections"
        )
    invariant = config["rotation_invariant"]
    moments = zernike_moments(patches, n_max=config["n_max"], rotation_invariant=invariant)
    names = [f"Z{n}_{m}" for n, m in zernike_indices(config["n_max"], rotation_invariant=invariant)]
    features = pd.concat([table.assign(rotation_invariant=invariant), pd.DataFrame(moments, columns=names)], axis=1)
    layout = layout_features(moments, config, rng=stage_rng(config["seed"], "motifs"))
    labels = motif_labels(layout, method=config["labels"], n_motifs=config["n_motifs"], rng=stage_rng(config["seed"], "motifs", 1))
    motifs = table.assign(
        layout_x=layout[:, 0], layout_y=layout[:, 1], motif=labels, distance=class_distances(moments, labels),
        **symmetry_scores(patches, config["n_max"]),
    )
    mean_patches, names = class_averages(patches, labels)
    averages = {"patches": mean_patches, "motif": names, "count": np.bincount(labels)[names]}
    return features, motifs, averages
