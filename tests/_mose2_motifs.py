"""Motifs of the real MoSe2 grain-boundary image (../shared/data/mose2_stem_grain_boundary.tif),
shared by the realdata test and benchmarks/motifs/mose2.py (its figure).

The sites come from a classical detection, not from a shipped model (those are trained on
carbon, not on TMDs): a 1 px Gaussian filter less a 20 px one (illumination), local maxima at
least 6 px apart (skimage's peak_local_max inside atomscope.labels.find_peaks, refined to
sub-pixel by its Gaussian fit), as the detection benchmark's baseline does. The pixel size
comes from the lattice (a = 3.29 Å; the file has none).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
from scipy import ndimage
from scipy.spatial import cKDTree

from atomscope.inference.calibration import lattice_pixel_size
from atomscope.labels import find_peaks
from atomscope.motifs import analyse_motifs

LATTICE = 3.29  # Å, MoSe2
#: Oriented moments tell the two sublattices of a grain apart by the way their neighbour
#: triangles point; the background blur of one lattice constant evens the illumination.
CONFIG = {"patch_size": "auto", "rotation_invariant": False, "background": LATTICE, "seed": 1}


def mose2_motifs(path: Path) -> tuple[np.ndarray, float, pd.DataFrame, pd.DataFrame]:
    """The image, its pixel size [Å/px], the detected sites and their motifs (analyse_motifs)."""
    image = tifffile.imread(path).astype(np.float64)
    sampling = lattice_pixel_size(image, LATTICE).pixel_size
    smooth = ndimage.gaussian_filter(image, 1.0) - ndimage.gaussian_filter(image, 20.0)
    peaks = find_peaks((smooth - smooth.min()) / np.ptp(smooth), min_distance_px=6, threshold=0.2, refine_radius_px=3)
    sites = pd.DataFrame({"frame": 0, "kind": "atom", "x": peaks["x_px"] * sampling, "y": peaks["y_px"] * sampling})
    motifs = analyse_motifs(image[None], sampling, sites, CONFIG)[1]
    return image, sampling, sites, motifs


def bulk_sites(sites: pd.DataFrame) -> np.ndarray:
    """Sites away from boundaries and defects: they and every site within one lattice constant
    have exactly three neighbours within 1.25 bond lengths (a / sqrt 3), as in a perfect honeycomb."""
    xy = sites[["x", "y"]].to_numpy()
    tree = cKDTree(xy)
    three = np.array([len(near) == 4 for near in tree.query_ball_point(xy, 1.25 * LATTICE / np.sqrt(3))])
    return np.array([three[near].all() for near in tree.query_ball_point(xy, LATTICE)])


def other_motif_fraction(sites: pd.DataFrame, motifs: pd.DataFrame) -> np.ndarray:
    """Per site, the fraction of its three nearest sites in another motif (NaN: site without a patch)."""
    xy = sites[["x", "y"]].to_numpy()
    labels = np.full(len(sites), -1)
    labels[motifs["site"].to_numpy()] = motifs["motif"].to_numpy()
    _, nearest = cKDTree(xy).query(xy, k=4)
    fraction = (labels[nearest[:, 1:]] != labels[:, None]).mean(axis=1)
    return np.where(labels >= 0, fraction, np.nan)
