"""Running a trained network on a micrograph: rescale, standardise, tile, find peaks."""

from __future__ import annotations

import logging
import math
import os
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from scipy.spatial import cKDTree

from atomscope._shared.normalisation import normalise
from atomscope._shared.validation import check_positive
from atomscope.geometry import nearest_distances
from atomscope.inference.drift import correct_drift, frame_drift
from atomscope.inference.readers import Micrograph
from atomscope.inference.tiling import predict_tiled
from atomscope.inference.uncertainty import OOD_WARNING, disagreement, each_symmetry, position_spread, symmetric_forward
from atomscope.io import ImageGrid, ModelSpec, check_pixel_size, rescale_to_sampling
from atomscope.labels import KIND_CHANNELS, MONOLAYER, find_peaks
from atomscope.labels.classes import classify_sites, empty_sites, softmax

__all__ = [
    "MIN_SIDE_PX",
    "NOISE_SPREAD",
    "allowed_classes",
    "analyse_micrograph",
    "check_micrograph",
    "class_channels",
    "class_probabilities",
    "detect_sites",
    "lattice_evidence",
    "map_names",
    "maps_attrs",
    "monolayer_mask",
    "monolayer_map",
    "predict_maps",
    "predict_passes",
    "preprocess",
    "recorded_monolayer",
    "site_species",
]

log = logging.getLogger(__name__)

#: Shortest image side [px] on the model's grid: 10.6-10.8 Å with the shipped models (0.110-0.112 Å/px),
#: about four graphene cells, longer than the g(r) of geometry (10 Å in the CLI, 8 Å in the
#: config). Measured with carbon_hrtem on crops of graphene_hrtem_defect.tif: 96 px (10.4 Å)
#: gave 45 atoms, 10-11 complete rings and a mean bond of 1.39-1.40 Å; 16 x 16 px found 2
#: atoms and failed to triangulate. The workflow's tiny test images (128 px, >= 0.1 Å/px) pass.
MIN_SIDE_PX = 96

#: Spread of the atoms' nearest-neighbour distances (interquartile range / median) above which
#: the detections look like noise, not atoms. Measured with the shipped models: real and
#: simulated graphene, amorphous carbon and MoSe2 0.035-0.127; Gaussian, Poisson and colour
#: noise images 0.26-0.36 (their detections are as dense as atoms, but spaced at random).
NOISE_SPREAD = 0.2
#: Fewer atoms than this in all frames together are no lattice either.
MIN_LATTICE_ATOMS = 10



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


def map_names(spec: ModelSpec) -> list[str]:
    """The name of each output map: the head's name for heat maps and masks, ``<head>:<class>``
    for each class of a classes head (e.g. ``species:Mo``; its map holds that class's probability)."""
    names = []
    for head in spec.heads:
        names += [f"{head.name}:{c.name}" for c in head.classes] if head.kind == "classes" else [head.name]
    return names


def class_channels(spec: ModelSpec) -> tuple[slice, list[str]] | None:
    """Output channels and class names of the model's classes head; None without one."""
    start = 0
    for head in spec.heads:
        if head.kind == "classes":
            return slice(start, start + head.channels), [c.name for c in head.classes]
        start += head.channels
    return None


def predict_passes(
    frame: np.ndarray,
    sampling: float,
    net: torch.nn.Module,
    spec: ModelSpec,
    *,
    device: torch.device,
    tile_px: int = 512,
    overlap_px: int = 128,
    augment: bool = False,
) -> tuple[np.ndarray, Iterator[np.ndarray]]:
    """The preprocessed image (C, H', W') of one frame (H, W), or of one co-registered focal
    series (C, H, W) (rescaled to ``spec.pixel_size`` and normalised as ``spec.normalisation``
    says), and its maps (K, H', W') on the same grid: one pass, or with ``augment`` one pass per
    symmetry of the square (:data:`~atomscope.inference.uncertainty.SYMMETRIES`), each turned
    back onto the image. The passes are computed as they are drawn, so memory holds one at a
    time. A classes head's channels hold logits (:func:`class_probabilities` turns them)."""
    image = preprocess(frame, sampling, spec)
    forwards = each_symmetry(net, device) if augment else [symmetric_forward(net, device, False, 0)]
    multiple = getattr(net, "size_multiple", 1)  # the project's networks say which sizes they take; another module, any
    return image, (predict_tiled(image, forward, tile=tile_px, overlap=overlap_px, multiple=multiple) for forward in forwards)


def preprocess(frame: np.ndarray, sampling: float, spec: ModelSpec) -> np.ndarray:
    """The network's input (C, H', W') from one frame (H, W) or focal series (C, H, W) at
    ``sampling`` [Å/px]: each channel rescaled to ``spec.pixel_size``, then normalised as
    ``spec.normalisation`` says."""
    channels = frame[None] if frame.ndim == 2 else frame
    return normalise(np.stack([rescale_to_sampling(c, sampling, spec.pixel_size) for c in channels]), spec.normalisation)


def class_probabilities(maps: np.ndarray, spec: ModelSpec, elements: Sequence[str] | None = None) -> np.ndarray:
    """``maps`` (K, H, W) with the logits of the model's classes head, if any, turned into
    probabilities (softmax over its channels, after tiling and averaging), in place.

    With ``elements`` (the chemical symbols the sample holds), the classes of other elements
    get probability 0 and the softmax runs over the rest (:func:`allowed_classes`)."""
    classes = class_channels(spec)
    if classes is not None:
        allowed = allowed_classes(spec, elements)
        logits = maps[classes[0]]
        probabilities = np.zeros_like(logits)
        probabilities[allowed] = softmax(logits[allowed])
        maps[classes[0]] = probabilities
    return maps


def allowed_classes(spec: ModelSpec, elements: Sequence[str] | None) -> np.ndarray:
    """Mask of the classes head's classes made only of ``elements`` (all when None; a class of
    no element, a vacancy, always). A model trained on several materials (MoS2, MoSe2, WS2)
    then cannot call a column of an MoS2 sample W.

    Raises ValueError when ``elements`` names one the model has no class for, or leaves only
    empty-column classes, or the model has no classes head.
    """
    head = next((h for h in spec.heads if h.kind == "classes"), None)
    if elements is None:
        return np.ones(head.channels if head else 0, dtype=bool)
    if head is None:
        raise ValueError(f"elements {list(elements)} given, but the model has no species head; use a species model (`atomscope models`)")
    known = {element for c in head.classes for element in c.species}
    unknown = sorted(set(elements) - known)
    if unknown:
        raise ValueError(f"the model has no class with {unknown}; its classes hold {sorted(known)}")
    allowed = np.array([set(c.species) <= set(elements) for c in head.classes])
    if not any(allowed[k] and c.species for k, c in enumerate(head.classes)):
        raise ValueError(f"elements {list(elements)} leave none of the model's atom classes {[c.name for c in head.classes]}")
    return allowed


def predict_maps(frame: np.ndarray, sampling: float, net: torch.nn.Module, spec: ModelSpec, **options: Any) -> tuple[np.ndarray, np.ndarray]:
    """Maps of one frame (or focal series) at the model's pixel size: the preprocessed image
    (C, H', W') and the mean (K, H', W') of :func:`predict_passes`, whose keywords ``options``
    are (with ``augment``, the mean over the 8 rotations and flips of the square, as
    micrographs have no preferred orientation), class channels as probabilities."""
    image, passes = predict_passes(frame, sampling, net, spec, **options)
    total, count = None, 0
    for maps in passes:
        total, count = (maps if total is None else total + maps), count + 1
    return image, class_probabilities(total / count, spec)


def detect_sites(
    maps: np.ndarray,
    *,
    target_names: Sequence[str],
    model_sampling: float,
    image_sampling: float,
    threshold: float,
    min_distance: float,
    species: Mapping[str, str] | None = None,
    classes: tuple[slice, Sequence[str]] | None = None,
    monolayer_threshold: float | None = None,
) -> pd.DataFrame:
    """Sites from heat maps (K, H, W) at ``model_sampling``, as rows of the sites contract.

    ``x``, ``y`` are in Å from the image origin; ``x_px``, ``y_px`` are pixel indices of the
    ORIGINAL image (sampling ``image_sampling`` [Å/px]), ready to overlay. ``min_distance``
    is in Å. ``in_monolayer`` is the monolayer map at the site (nearest pixel) >=
    ``monolayer_threshold`` (:func:`monolayer_mask`), missing (<NA>) for models without a
    ``monolayer`` head and where no threshold is given (callers that want the atoms only).

    With ``classes`` (the channels of a classes head's probability maps and its class names),
    every atom's ``species`` is its most probable atom class and ``p_<class>`` its mean
    probabilities (:func:`atomscope.labels.classes.classify_sites`); empty columns of the
    ``vacancy`` class are added as rows of kind ``vacancy`` after the atoms and centres.
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
    if classes is not None:
        sites = _with_species(sites, maps[classes[0]], list(classes[1]), model_sampling, image_sampling, min_distance)
    mask = None if monolayer_threshold is None else monolayer_mask(maps, target_names, monolayer_threshold)
    if mask is not None:
        rows, cols = ImageGrid(mask.shape, model_sampling).nearest_pixel(sites["x"], sites["y"])
        sites["in_monolayer"] = pd.array(mask[rows, cols], dtype="boolean")
    else:
        sites["in_monolayer"] = pd.array([pd.NA] * len(sites), dtype="boolean")
    return sites


def monolayer_mask(maps: np.ndarray, target_names: Sequence[str], threshold: float | None) -> np.ndarray | None:
    """Where the ``monolayer`` head of ``maps`` (..., K, H, W) is >= ``threshold``: a boolean
    (..., H, W) array, or None for models without that head. The head gives p(monolayer); the
    threshold (``inference.monolayer_threshold``) moves the region's edge, lower keeping more of
    the image as monolayer."""
    if MONOLAYER not in target_names:
        return None
    if threshold is None or not 0 < threshold < 1:
        raise ValueError(
            f"monolayer_threshold: {threshold!r} is not a probability strictly between 0 and 1; a model with a monolayer head "
            "needs one to tell the monolayer from the rest (inference.monolayer_threshold, `atomscope analyse --monolayer-threshold`)"
        )
    return np.take(maps, list(target_names).index(MONOLAYER), axis=-3) >= threshold


def recorded_monolayer(maps: np.ndarray, attrs: Mapping[str, Any]) -> np.ndarray | None:
    """The monolayer (F, H, W) of a maps.h5 file's ``maps`` (F, K, H, W) with the threshold its
    inference recorded (``attrs`` as :func:`atomscope.io.read_arrays` returns them), so every
    stage after inference draws the same region as the sites' ``in_monolayer``."""
    if MONOLAYER not in attrs["target_names"]:
        return None
    inference = attrs.get("config", {}).get("inference", {})
    if "monolayer_threshold" not in inference:
        raise ValueError(
            f"maps of {attrs.get('source', 'an image')}: the file records no inference.monolayer_threshold (an older atomscope wrote "
            "it, which used 0.5 without saying so); rerun inference on the image to record the threshold"
        )
    return monolayer_mask(maps, attrs["target_names"], inference["monolayer_threshold"])


def _with_species(
    sites: pd.DataFrame, probs: np.ndarray, classes: list[str], model_sampling: float, image_sampling: float, min_distance: float
) -> pd.DataFrame:
    """Sites with the species of their atoms and the vacancies of the class maps (C, H, W) appended."""
    atoms = (sites["kind"] == "atom").to_numpy()
    labelled = classify_sites(probs, sites.loc[atoms, ["x", "y"]].to_numpy() / model_sampling, classes, model_sampling)
    sites = sites.copy()
    for column in labelled.columns:
        sites[column] = "" if column == "species" else np.nan
        sites.loc[atoms, column] = labelled[column].to_numpy()
    empty = empty_sites(probs, classes, model_sampling, min_distance=min_distance)
    x, y = empty["x_px"].to_numpy(float) * model_sampling, empty["y_px"].to_numpy(float) * model_sampling
    vacancies = empty.drop(columns=["x_px", "y_px"]).assign(kind="vacancy", x_px=x / image_sampling, y_px=y / image_sampling, x=x, y=y)
    if not len(vacancies):
        return sites
    sites, vacancies = _one_site_per_column(sites, vacancies, min_distance)
    return pd.concat([sites, vacancies[sites.columns]], ignore_index=True)


def _one_site_per_column(sites: pd.DataFrame, vacancies: pd.DataFrame, min_distance: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A vacancy closer than ``min_distance`` [Å] to an atom is the same column (a dim one the
    atoms head marks and the classes head calls empty): keep the vacancy where the atom's own
    vacancy probability beats that of its atom class, else the atom."""
    atoms = np.flatnonzero((sites["kind"] == "atom").to_numpy())
    if not len(atoms):
        return sites, vacancies
    distance, nearest = cKDTree(sites.loc[atoms, ["x", "y"]].to_numpy()).query(vacancies[["x", "y"]].to_numpy())
    shared = distance < min_distance
    if not shared.any():
        return sites, vacancies
    rows = atoms[nearest[shared]]
    own = sites.loc[rows].apply(lambda site: site[f"p_{site['species']}"], axis=1).to_numpy(float)
    empty = sites.loc[rows, "p_vacancy"].to_numpy(float) > own
    keep_vacancy = ~shared
    keep_vacancy[np.flatnonzero(shared)[empty]] = True
    return sites.drop(index=rows[empty]).reset_index(drop=True), vacancies[keep_vacancy]


def analyse_micrograph(
    micrograph: Micrograph,
    spec: ModelSpec,
    net: torch.nn.Module,
    config: Mapping[str, Any],
    *,
    device: torch.device,
    monolayer_model: tuple[ModelSpec, torch.nn.Module] | None = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Detect sites in every frame of a micrograph with the ``inference`` config section.

    ``spec`` and ``net`` come from :func:`atomscope.nets.load_model`. Returns the
    preprocessed frames (F, C, H', W') and heat maps (F, K, H', W') at the model's pixel
    size, and the sites of all frames (sites contract, with a ``frame`` column). A model of
    C > 1 input channels (a focal series) takes the micrograph's C frames, co-registered and
    in the order of its defocus offsets, as one input (F = 1). The config's ``elements``
    (None: all) restricts the species classes (:func:`allowed_classes`); its ``monolayer_threshold``
    draws the monolayer of a model with a monolayer head (``in_monolayer``, :func:`monolayer_mask`).
    With ``monolayer_model`` (spec and network of another model with a monolayer head, e.g. on a
    coarser grid), its map replaces the model's own monolayer map (:func:`monolayer_map`).
    """
    check_micrograph(micrograph, spec)
    if monolayer_model is not None:
        _check_monolayer_model(spec, monolayer_model[0])
    allowed_classes(spec, config.get("elements"))  # a wrong element fails before the network runs
    net = net.to(device).eval()
    images, maps, tables = [], [], []
    augment = config.get("augment", False)

    def detect(heat: np.ndarray) -> pd.DataFrame:
        return detect_sites(
            heat,
            target_names=map_names(spec),
            model_sampling=spec.pixel_size,
            image_sampling=micrograph.sampling,
            threshold=config["threshold"],
            min_distance=config["min_distance"],
            species=site_species(spec),
            classes=class_channels(spec),
            monolayer_threshold=config.get("monolayer_threshold"),
        )

    for frame_index, frame in enumerate(_model_inputs(micrograph, spec)):
        image, passes = predict_passes(
            frame, micrograph.sampling, net, spec, device=device, tile_px=config["tile_px"], overlap_px=config["overlap_px"],
            augment=augment,
        )
        total = None
        found = []  # the sites of each pass, for the spread of the positions
        for heat in passes:
            total = heat if total is None else total + heat
            if augment:
                found.append(detect(heat))
        heat = class_probabilities(total / max(len(found), 1), spec, config.get("elements"))
        if monolayer_model is not None:
            heat[map_names(spec).index(MONOLAYER)] = monolayer_map(frame, micrograph.sampling, monolayer_model, ImageGrid(heat.shape[-2:], spec.pixel_size), config, device=device)
        sites = detect(heat)
        if augment:
            sites = position_spread(sites, found, radius=config["min_distance"])
            sites["ood"] = score = disagreement(sites)
            _warn_out_of_distribution(micrograph, frame_index, score)
        else:
            sites = sites.assign(sigma_x=math.nan, sigma_y=math.nan, found=math.nan, ood=math.nan)
        images.append(image)
        maps.append(heat)
        tables.append(sites.assign(frame=frame_index))
    sites = pd.concat(tables, ignore_index=True)
    sites = sites[["frame"] + [c for c in sites.columns if c != "frame"]]
    if len(maps) > 1:
        sites = _remove_drift(micrograph, spec, np.stack(maps), sites)
    evidence = lattice_evidence(sites)
    if evidence["looks_like_noise"]:
        log.warning(
            "%s: the detections look like noise, not atoms: %d atoms, nearest-neighbour distances spread %.2f "
            "(IQR / median; lattices and amorphous films measure <= 0.13, noise >= 0.26); "
            "check the pixel size, the model and that the image shows atoms",
            micrograph.path, evidence["atoms"], evidence["nn_spread"],
        )
    # one frame: a view, not a copy (an 8192 x 8192 image's maps are 0.6 GB)
    return _stack(images), _stack(maps), sites


def monolayer_map(
    frame: np.ndarray, sampling: float, monolayer_model: tuple[ModelSpec, torch.nn.Module], grid: ImageGrid, config: Mapping[str, Any], *, device: torch.device,
) -> np.ndarray:
    """p(monolayer) of one frame (H, W) at ``sampling`` [Å/px] by the ``monolayer`` head of
    ``monolayer_model`` (spec, network), run on its own grid with the config's tiles and seen on
    ``grid`` (nearest pixel; the model's grid of the maps it joins)."""
    spec, net = monolayer_model
    _, passes = predict_passes(frame, sampling, net.to(device).eval(), spec, device=device, tile_px=config["tile_px"], overlap_px=config["overlap_px"])
    maps = next(iter(passes))
    return grid.take(maps[map_names(spec).index(MONOLAYER)], ImageGrid(maps.shape[-2:], spec.pixel_size))


def _check_monolayer_model(spec: ModelSpec, monolayer_spec: ModelSpec) -> None:
    """Both models need a monolayer head, and the monolayer model reads the same image channels."""
    for which, s in (("the model", spec), ("the monolayer model (inference.monolayer_model)", monolayer_spec)):
        if MONOLAYER not in s.head_names:
            raise ValueError(f"{which} has no {MONOLAYER} head (heads {s.head_names}); set inference.monolayer_model: none (`--monolayer-model none`)")
    if monolayer_spec.in_channels != 1 or spec.in_channels != 1:
        raise ValueError(
            f"inference.monolayer_model: a monolayer model draws the monolayer of single images; the models read {spec.in_channels} and "
            f"{monolayer_spec.in_channels} channels; set inference.monolayer_model: none (`--monolayer-model none`)"
        )


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    return arrays[0][None] if len(arrays) == 1 else np.stack(arrays)


def _warn_out_of_distribution(micrograph: Micrograph, frame: int, score: float) -> None:
    """Warn when the 8 symmetric passes disagree on more sites than :data:`~atomscope.inference.uncertainty.OOD_WARNING`."""
    if score > OOD_WARNING:
        log.warning(
            "%s, frame %d: the network's answers for the 8 rotations and flips disagree on %.0f %% of the sites (more than %.0f %%): "
            "the image looks unlike the simulations the model was trained on; check the model, the pixel size and the image",
            micrograph.path, frame, 100 * score, 100 * OOD_WARNING,
        )


def _remove_drift(micrograph: Micrograph, spec: ModelSpec, maps: np.ndarray, sites: pd.DataFrame) -> pd.DataFrame:
    """Sites of a movie with ``x_corrected``, ``y_corrected`` [Å] in the first frame's
    coordinates, the drift found by cross-correlating the frames' atom maps (denoised by the
    network, so the noise of the raw frames does not enter), and logged."""
    names = map_names(spec)  # channels, not heads: a classes head spans one channel per class
    atoms = names.index("atoms") if "atoms" in names else 0
    drift = frame_drift(maps[:, atoms], spec.pixel_size)
    log.info(
        "%s: %d frames, drift %.2f Å in all (%.2f Å per frame at most; last frame dx %+.2f, dy %+.2f Å), removed from x_corrected, y_corrected",
        micrograph.path, len(drift), drift["step"].sum(), drift["step"].max(), drift["dx"].iloc[-1], drift["dy"].iloc[-1],
    )
    return correct_drift(sites, drift)


def _model_inputs(micrograph: Micrograph, spec: ModelSpec) -> np.ndarray:
    """The network inputs of a micrograph: each frame (F, H, W) for a one-channel model, all
    frames as one (1, C, H, W) for a focal-series model of C channels."""
    if spec.in_channels == 1:
        return micrograph.frames
    if len(micrograph.frames) != spec.in_channels:
        offsets = ", ".join(f"{c.defocus_offset:+g} Å" if c.defocus_offset is not None else c.name for c in spec.input_channels)
        raise ValueError(
            f"{micrograph.path}: the model reads a focal series of {spec.in_channels} co-registered frames (defocus offsets {offsets}), "
            f"the input holds {len(micrograph.frames)}; give one file stacking the {spec.in_channels} frames, or {spec.in_channels} "
            "files in that order (in the sample sheet: path a.tif;b.tif;c.tif)"
        )
    return micrograph.frames[None]


def check_micrograph(micrograph: Micrograph, spec: ModelSpec) -> None:
    """Refuse a micrograph the model cannot analyse: a pixel size outside
    :data:`~atomscope.io.ATOMIC_PIXEL_SIZES`, or frames whose shorter side is under
    :data:`MIN_SIDE_PX` px of the model's grid. Messages name the file, its size and the minimum."""
    path, sampling = micrograph.path, micrograph.sampling
    try:
        check_pixel_size(sampling)
    except ValueError as error:
        raise ValueError(f"{path}: pixel size: {error}; give the pixel size in Å/px") from None
    height, width = micrograph.frames.shape[1:]
    least = MIN_SIDE_PX * spec.pixel_size  # [Å]
    need = math.ceil(least / sampling - 1e-9)  # [px] of this image; 1e-9: 96 * 0.1 / 0.1 is 96.00000000000001
    if min(height, width) < need:
        raise ValueError(
            f"{path}: the image is {height} x {width} px ({height * sampling:.3g} x {width * sampling:.3g} Å at {sampling:g} Å/px), "
            f"smaller than the {least:.3g} Å ({MIN_SIDE_PX} px at the model's {spec.pixel_size:.4g} Å/px) a side must span; "
            f"give an image of at least {need} x {need} px at this pixel size"
        )


def lattice_evidence(sites: pd.DataFrame) -> dict[str, Any]:
    """How much the detected atoms look like atoms: their number, the median [Å] and spread
    (interquartile range / median) of their nearest-neighbour distances within each frame,
    the median heat-map peak, and ``looks_like_noise`` (spread above :data:`NOISE_SPREAD`,
    or fewer than :data:`MIN_LATTICE_ATOMS` atoms). For the outputs' metadata."""
    atoms = sites[sites["kind"] == "atom"]
    distances = nearest_distances(sites)
    median = float(np.median(distances)) if len(distances) else math.nan
    spread = float(np.subtract(*np.percentile(distances, [75, 25])) / median) if len(distances) else math.nan
    return {
        "atoms": len(atoms),
        "nn_distance_median": median,
        "nn_spread": spread,
        "score_median": float(atoms["score"].median()) if "score" in atoms and len(atoms) else math.nan,
        "looks_like_noise": bool(len(atoms) < MIN_LATTICE_ATOMS or not spread <= NOISE_SPREAD),
    }


def maps_attrs(
    micrograph: Micrograph, spec: ModelSpec, maps: np.ndarray, model: str | os.PathLike, monolayer_model: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Root attributes of a maps.h5 file: the two grids (the input image's, on which the sites'
    ``x_px``, ``y_px`` lie, and the model's, on which the images and maps lie), where the pixel
    size came from, the channel and head names, the source file, the model file and the file of
    the model that drew the monolayer map (empty: the model's own head)."""
    return {
        "model": str(model),
        "monolayer_model": "" if monolayer_model is None else str(monolayer_model),
        "image_grid": ImageGrid(micrograph.frames.shape[1:], micrograph.sampling).to_attrs(),
        "model_grid": ImageGrid(maps.shape[-2:], spec.pixel_size).to_attrs(),
        "pixel_size": micrograph.pixel_size_record(),
        "channel_names": spec.channel_names,
        "target_names": map_names(spec),
        "source": str(micrograph.path),
    }
