"""Running a trained network on a micrograph: rescale, standardise, tile, find peaks."""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from scipy import ndimage

from atomscope._shared.normalisation import normalise
from atomscope._shared.validation import check_image, check_positive
from atomscope.inference.readers import Micrograph
from atomscope.inference.tiling import predict_tiled
from atomscope.io import ImageGrid, ModelSpec
from atomscope.labels import KIND_CHANNELS, MONOLAYER, find_peaks

__all__ = ["rescale_to_sampling", "site_species", "predict_maps", "detect_sites", "analyse_micrograph", "maps_attrs"]



def rescale_to_sampling(image: np.ndarray, sampling: float, target_sampling: float) -> np.ndarray:
    """Resample a (H, W) image from ``sampling`` to ``target_sampling`` [Å/px].

    Output pixel (r, c) samples the input at (r, c) * target_sampling / sampling, so pixel 0
    stays at the origin (DESIGN.md's convention). Hand-written because skimage's rescale
    and ndimage.zoom align pixel edges or end pixels, which shifts positions by up to half
    a pixel. Down-sampling first applies skimage's default anti-aliasing Gaussian,
    sigma = (ratio - 1) / 2.
    """
    image = check_image(image).astype(np.float32)
    check_positive(sampling, "sampling")
    check_positive(target_sampling, "target_sampling")
    ratio = target_sampling / sampling
    if abs(ratio - 1) < 1e-6:
        return image
    if ratio > 1:
        image = ndimage.gaussian_filter(image, sigma=(ratio - 1) / 2)
    shape = [int(np.floor((n - 1) / ratio)) + 1 for n in image.shape]
    rows, cols = np.meshgrid(np.arange(shape[0]) * ratio, np.arange(shape[1]) * ratio, indexing="ij")
    return ndimage.map_coordinates(image, [rows, cols], order=3, mode="reflect").astype(np.float32)


def site_species(spec: ModelSpec) -> dict[str, str]:
    """The species label of each site kind a model detects: the element its head stands for
    when that is one element (``atom`` -> ``C`` for carbon), else "" (unknown: the atoms of
    MoS2 stand for Mo and S, which the atoms head alone does not tell apart)."""
    labels = {}
    for head in spec.heads:
        if head.name in KIND_CHANNELS:
            elements = head.classes[0].species
            labels[KIND_CHANNELS[head.name]] = elements[0] if len(elements) == 1 else ""
    return labels


def predict_maps(
    frame: np.ndarray,
    sampling: float,
    net: torch.nn.Module,
    spec: ModelSpec,
    *,
    device: torch.device,
    tile_px: int = 256,
    overlap_px: int = 32,
    augment: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Heat maps of one frame at the model's pixel size.

    Returns the preprocessed image (C, H', W') (rescaled to ``spec.pixel_size`` and
    normalised as ``spec.normalisation`` says) and the heat maps (K, H', W') on the same grid.
    With ``augment``, every tile's maps are the mean over the 8 rotations and flips of the
    square (each transformed back), as micrographs have no preferred orientation.
    """
    image = rescale_to_sampling(frame, sampling, spec.pixel_size)[None]
    image = normalise(image, spec.normalisation)

    @torch.inference_mode()
    def forward(batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(batch).to(device)
        if not augment:
            return net(x).float().cpu().numpy()
        total = torch.zeros((), device=device)
        for flip in (False, True):
            flipped = x.flip(-1) if flip else x
            for k in range(4):
                y = net(torch.rot90(flipped, k, dims=(-2, -1))).float()
                y = torch.rot90(y, -k, dims=(-2, -1))
                total = total + (y.flip(-1) if flip else y)
        return (total / 8).cpu().numpy()

    maps = predict_tiled(image, forward, tile=tile_px, overlap=overlap_px)
    return image, maps.astype(np.float32)


def detect_sites(
    maps: np.ndarray,
    *,
    target_names: Sequence[str],
    model_sampling: float,
    image_sampling: float,
    threshold: float,
    min_distance: float,
    species: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Sites from heat maps (K, H, W) at ``model_sampling``, as rows of the sites contract.

    ``x``, ``y`` are in Å from the image origin; ``x_px``, ``y_px`` are pixel indices of the
    ORIGINAL image (sampling ``image_sampling`` [Å/px]), ready to overlay. ``min_distance``
    is in Å. ``in_monolayer`` is the monolayer map at the site (nearest pixel) >= 0.5 for
    models with a ``monolayer`` head, missing (<NA>) for the others.
    """
    check_positive(min_distance, "min_distance")
    tables = []
    for k, name in enumerate(target_names):
        if name not in KIND_CHANNELS:
            continue
        peaks = find_peaks(maps[k], min_distance_px=max(1, int(min_distance / model_sampling)), threshold=threshold)
        x, y = peaks["x_px"].to_numpy() * model_sampling, peaks["y_px"].to_numpy() * model_sampling
        kind = KIND_CHANNELS[name]
        tables.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "x_px": x / image_sampling,
                    "y_px": y / image_sampling,
                    "x": x,
                    "y": y,
                    "score": peaks["score"].to_numpy(),
                    "species": (species or {}).get(kind, ""),
                }
            )
        )
    sites = pd.concat(tables, ignore_index=True)
    if MONOLAYER in target_names:
        mask = maps[list(target_names).index(MONOLAYER)] >= 0.5
        rows, cols = ImageGrid(mask.shape, model_sampling).nearest_pixel(sites["x"], sites["y"])
        sites["in_monolayer"] = pd.array(mask[rows, cols], dtype="boolean")
    else:
        sites["in_monolayer"] = pd.array([pd.NA] * len(sites), dtype="boolean")
    return sites


def analyse_micrograph(
    micrograph: Micrograph,
    spec: ModelSpec,
    net: torch.nn.Module,
    config: Mapping[str, Any],
    *,
    device: torch.device,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Detect sites in every frame of a micrograph with the ``inference`` config section.

    ``spec`` and ``net`` come from :func:`atomscope.nets.load_model`. Returns the
    preprocessed frames (F, C, H', W') and heat maps (F, K, H', W') at the model's pixel
    size, and the sites of all frames (sites contract, with a ``frame`` column).
    """
    if spec.in_channels != 1:
        raise ValueError(
            f"the model reads {spec.in_channels} channels {spec.channel_names} (a focal series); "
            "inference on a single micrograph needs a one-channel model"
        )
    net = net.to(device).eval()
    images, maps, tables = [], [], []
    for frame_index, frame in enumerate(micrograph.frames):
        image, heat = predict_maps(
            frame, micrograph.sampling, net, spec, device=device, tile_px=config["tile_px"], overlap_px=config["overlap_px"],
            augment=config.get("augment", False),
        )
        sites = detect_sites(
            heat,
            target_names=spec.head_names,
            model_sampling=spec.pixel_size,
            image_sampling=micrograph.sampling,
            threshold=config["threshold"],
            min_distance=config["min_distance"],
            species=site_species(spec),
        )
        images.append(image)
        maps.append(heat)
        tables.append(sites.assign(frame=frame_index))
    sites = pd.concat(tables, ignore_index=True)
    sites = sites[["frame"] + [c for c in sites.columns if c != "frame"]]
    return np.stack(images), np.stack(maps), sites


def maps_attrs(micrograph: Micrograph, spec: ModelSpec, maps: np.ndarray, model: str | os.PathLike) -> dict[str, Any]:
    """Root attributes of a maps.h5 file: the two grids (the input image's, on which the sites'
    ``x_px``, ``y_px`` lie, and the model's, on which the images and maps lie), where the pixel
    size came from, the channel and head names, the source file and the model file."""
    return {
        "model": str(model),
        "image_grid": ImageGrid(micrograph.frames.shape[1:], micrograph.sampling).to_attrs(),
        "model_grid": ImageGrid(maps.shape[-2:], spec.pixel_size).to_attrs(),
        "pixel_size": micrograph.pixel_size_record(),
        "channel_names": spec.channel_names,
        "target_names": spec.head_names,
        "source": str(micrograph.path),
    }
