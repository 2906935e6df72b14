"""The species classes head: per-pixel labels from species heat maps, its loss, site species, the model file."""

import numpy as np
import pandas as pd
import pytest
import torch

from atomscope.io import Head, HeadClass, InputChannel, ModelSpec, read_model, write_model
from atomscope.labels import detection_scores, find_peaks
from atomscope.labels.classes import class_labels, classify_sites, empty_sites, head_layout, softmax
from atomscope.nets import ResUNet
from atomscope.simulation.targets import gaussian_heatmap
from atomscope.training.dataset import standardise
from atomscope.training.losses import head_loss

NAMES = ["atoms", "centres", "species:A", "species:B"]


def test_head_layout_and_labels_follow_the_species_heat_maps():
    peaks, species, classes = head_layout(["atoms", "centres", "monolayer", "species:Mo", "species:vacancy"])
    assert (peaks, species, classes) == ([0, 1, 2], [3, 4], ["background", "Mo", "vacancy"])
    maps = torch.zeros(2, 4, 4)
    maps[0, 1, 1], maps[1, 1, 1] = 0.9, 0.6  # both classes peak at (1, 1): the higher wins
    maps[1, 2, 3], maps[0, 0, 0] = 0.5, 0.49  # at the level counts, below it is background
    labels = class_labels(maps)
    assert labels[1, 1] == 1 and labels[2, 3] == 2 and labels[0, 0] == 0 and int((labels > 0).sum()) == 2


def _two_classes(seed: int, size: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """An image of bright (class A) and dim (class B) spots at random, 6 px apart at least; its targets."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(4, size - 4, size=(60, 2))
    keep = [0]
    for i in range(1, len(xy)):
        if np.min(np.linalg.norm(xy[keep] - xy[i], axis=1)) > 6:
            keep.append(i)
    xy = xy[keep]
    is_a = rng.random(len(xy)) < 0.5
    heat = [gaussian_heatmap(p, (size, size), 1.0, sigma=1.5) for p in (xy, np.empty((0, 2)), xy[is_a], xy[~is_a])]
    image = 2.0 * heat[2] + 1.0 * heat[3] + 0.15 * rng.normal(size=(size, size))
    return standardise(image[None].astype(np.float32)), np.stack(heat), xy, is_a


def test_a_tiny_classes_head_learns_two_classes_of_spots():
    """Bright and dim spots: after 150 steps of the heat-map + cross-entropy loss, the atoms head
    finds the spots and the classes head tells them apart on an image it never saw."""
    torch.manual_seed(0)
    pairs = [_two_classes(seed) for seed in range(2)]
    x = torch.from_numpy(np.stack([p[0] for p in pairs]))
    y = torch.from_numpy(np.stack([p[1] for p in pairs]))
    net = ResUNet(1, 2 + 3, base_channels=8, depth=2)
    loss_fn = head_loss(NAMES, class_weight=0.5)
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(150):
        loss = loss_fn(net(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    image, _, xy, is_a = _two_classes(99)
    net.eval()
    with torch.inference_mode():
        out = net(torch.from_numpy(image[None])).numpy()[0]
    atoms = find_peaks(out[0], min_distance_px=3, threshold=0.5)
    assert detection_scores(atoms[["x_px", "y_px"]].to_numpy(), xy, radius=1.5)["f1"] > 0.9
    species = classify_sites(softmax(out[2:]), xy, ["background", "A", "B"], sampling=1.0)
    assert list(species.columns) == ["species", "p_background", "p_A", "p_B"]
    np.testing.assert_allclose(species[["p_background", "p_A", "p_B"]].sum(axis=1), 1.0, rtol=1e-5)
    accuracy = np.mean((species["species"] == "A").to_numpy() == is_a)
    assert accuracy >= 0.9, accuracy
    # an untrained head knows nothing: the same decoding on its maps is near chance
    untrained = ResUNet(1, 5, base_channels=8, depth=2).eval()
    with torch.inference_mode():
        guess = classify_sites(softmax(untrained(torch.from_numpy(image[None])).numpy()[0, 2:]), xy, ["background", "A", "B"], 1.0)
    assert np.mean((guess["species"] == "A").to_numpy() == is_a) < 0.8


def test_species_weights_weigh_the_pixels_of_a_rare_class():
    """Cross-entropy with {B: 4}: the weighted mean over pixels, 4 for B's, 1 for the rest."""
    torch.manual_seed(0)
    target = torch.zeros(1, 4, 8, 8)
    target[0, 2, 1, 1], target[0, 3, 5, 5], target[0, 3, 6, 2] = 1.0, 1.0, 1.0  # one A pixel, two B
    prediction = torch.randn(1, 5, 8, 8)
    labels = class_labels(target[:, 2:])
    per_pixel = torch.nn.functional.cross_entropy(prediction[:, 2:], labels, reduction="none")[0]
    mse = torch.nn.functional.mse_loss(prediction[:, :2], target[:, :2])
    weight = torch.where(labels[0] == 2, 4.0, 1.0)
    expected = mse + 0.5 * (per_pixel * weight).sum() / weight.sum()
    torch.testing.assert_close(head_loss(NAMES, class_weight=0.5, species_weights={"B": 4.0})(prediction, target), expected)
    unweighted = mse + 0.5 * per_pixel.mean()
    torch.testing.assert_close(head_loss(NAMES, class_weight=0.5)(prediction, target), unweighted)
    with pytest.raises(ValueError, match=r"species_weights names \['Si'\]"):
        head_loss(NAMES, class_weight=0.5, species_weights={"Si": 7.0})


def test_empty_sites_are_the_peaks_of_the_vacancy_map():
    probs = np.zeros((3, 40, 40), np.float32)
    probs[0] = 1.0
    vacancy = gaussian_heatmap(np.array([[10.0, 12.0], [30.0, 25.0]]), (40, 40), 1.0, sigma=2.0)
    probs[2], probs[0] = vacancy, 1 - vacancy
    sites = empty_sites(probs, ["background", "Mo", "vacancy"], 0.1, min_distance=0.5)
    assert sorted(np.round(sites["x_px"]).tolist()) == [10, 30] and set(sites["species"]) == {"vacancy"}
    assert empty_sites(probs, ["background", "Mo"], 0.1, min_distance=0.5).empty


def test_class_names_and_their_elements_round_trip_through_the_model_file(tmp_path):
    classes = (HeadClass("background"), HeadClass("Mo", ("Mo",)), HeadClass("SSe", ("S", "Se")), HeadClass("vacancy"))
    heads = (Head("atoms", "heatmap", (HeadClass("atom", ("Mo", "S", "Se")),)), Head("species", "classes", classes))
    spec = ModelSpec("resunet", {"base_channels": 4, "depth": 2}, (InputChannel("adf"),), heads, 0.12)
    write_model(tmp_path / "m.safetensors", ResUNet(1, spec.out_channels, base_channels=4, depth=2), spec)
    back, state = read_model(tmp_path / "m.safetensors")
    assert back == spec and back.out_channels == 5
    assert [(c.name, c.species) for c in back.head("species").classes] == [
        ("background", ()), ("Mo", ("Mo",)), ("SSe", ("S", "Se")), ("vacancy", ())
    ]


def test_inference_gives_atoms_their_species_and_finds_vacancies():
    """detect_sites with a classes head: species and p_<class> per atom, vacancies as rows after the atoms."""
    from atomscope.inference.predict import detect_sites

    s = 0.1  # Å/px of the maps
    mo, s2, empty = np.array([[2.0, 2.0], [5.0, 2.0]]), np.array([[3.5, 4.0]]), np.array([[6.5, 4.5]])
    shape = (80, 90)
    atoms = gaussian_heatmap(np.vstack([mo, s2]), shape, s)
    logits = np.stack([np.full(shape, 2.0), 6 * gaussian_heatmap(mo, shape, s), 6 * gaussian_heatmap(s2, shape, s), 6 * gaussian_heatmap(empty, shape, s)])
    maps = np.concatenate([atoms[None], np.zeros((1, *shape), np.float32), softmax(logits)])
    names = ["atoms", "centres", "species:background", "species:Mo", "species:S2", "species:vacancy"]
    classes = ["background", "Mo", "S2", "vacancy"]
    sites = detect_sites(maps, target_names=names, model_sampling=s, image_sampling=0.05, threshold=0.4, min_distance=0.7, classes=(slice(2, 6), classes))
    assert sites["kind"].tolist() == ["atom", "atom", "atom", "vacancy"]
    by_x = sites.sort_values("x")
    assert by_x["species"].tolist() == ["Mo", "S2", "Mo", "vacancy"]
    np.testing.assert_allclose(sites.loc[sites["kind"] == "vacancy", ["x", "y"]].to_numpy(), empty, atol=0.05)
    np.testing.assert_allclose(sites.loc[sites["kind"] == "vacancy", ["x_px", "y_px"]].to_numpy(), empty / 0.05, atol=1)
    assert (sites.loc[sites["species"] == "Mo", "p_Mo"] > 0.8).all() and (sites[[f"p_{c}" for c in classes]].sum(axis=1) - 1).abs().max() < 1e-5
    # geometry leaves the vacancy row out and keeps the atoms' row numbers
    from atomscope.geometry import analyse_frames

    tables = analyse_frames(sites.assign(frame=0), rings="faces", r_max=1.0, region=(0.0, 9.0, 0.0, 8.0))
    assert tables["bonds"][["i", "j"]].to_numpy().max() <= 2


def test_a_column_marked_by_both_heads_is_one_site_the_classes_head_decides():
    """A dim column with an atoms peak and a vacancy peak 0.2 Å apart is one site: the vacancy
    where the classes head calls it empty (p_vacancy > p_S at the atom), the atom where it does not."""
    from atomscope.inference.predict import detect_sites

    s, shape = 0.1, (80, 90)
    mo, dim = np.array([[2.0, 2.0], [5.0, 2.0]]), np.array([[3.5, 4.0]])
    names = ["atoms", "centres", "species:background", "species:Mo", "species:S", "species:vacancy"]
    classes = ["background", "Mo", "S", "vacancy"]
    atoms = gaussian_heatmap(np.vstack([mo, dim]), shape, s)
    found = {}
    for called, (s_logit, vacancy_logit) in {"S": (6.0, 5.0), "vacancy": (5.0, 6.0)}.items():
        logits = np.stack([
            np.full(shape, 2.0), 6 * gaussian_heatmap(mo, shape, s),
            s_logit * gaussian_heatmap(dim, shape, s), vacancy_logit * gaussian_heatmap(dim + [0.2, 0.0], shape, s),
        ])
        maps = np.concatenate([atoms[None], np.zeros((1, *shape), np.float32), softmax(logits)])
        sites = detect_sites(maps, target_names=names, model_sampling=s, image_sampling=s, threshold=0.4, min_distance=0.7, classes=(slice(2, 6), classes))
        found[called] = sorted(sites.loc[sites["kind"] != "centre", "species"])
    assert found == {"S": ["Mo", "Mo", "S"], "vacancy": ["Mo", "Mo", "vacancy"]}


def test_species_counts_carry_binomial_errors_and_minorities_their_positions():
    from atomscope.report import minority_sites, species_counts, species_figure

    species = ["Mo"] * 50 + ["S2"] * 45 + ["SSe"] * 3 + ["vacancy"] * 2
    kind = ["atom"] * 98 + ["vacancy"] * 2
    sites = pd.DataFrame({"frame": 0, "kind": kind + ["centre"], "species": species + [""], "x": np.arange(101.0), "y": 1.0, "x_px": 0.0, "y_px": 0.0})
    counts = species_counts(sites).set_index("species")
    assert counts.loc["Mo", "count"] == 50 and counts.loc["SSe", "fraction"] == pytest.approx(0.03)
    assert counts.loc["SSe", "fraction_err"] == pytest.approx(np.sqrt(0.03 * 0.97 / 100))
    assert counts["host"].to_dict() == {"Mo": True, "S2": True, "SSe": False, "vacancy": False}
    minority = minority_sites(sites, species_counts(sites))
    assert minority["species"].tolist() == ["SSe"] * 3 + ["vacancy"] * 2 and minority["x"].tolist() == [95.0, 96.0, 97.0, 98.0, 99.0]
    figure = species_figure(np.random.default_rng(0).random((20, 120)), 1.0, sites, species_counts(sites))
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()][2] == "SSe: 3 (3.00 ± 1.71 %)"


class _Channel(torch.nn.Module):
    """A 'network' whose atoms map is input channel k and whose centres map is 0: shows which frame went where."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x[:, self.k : self.k + 1], torch.zeros_like(x[:, :1])], dim=1)


def test_a_focal_series_of_three_files_is_one_input_of_three_channels(tmp_path):
    """Three co-registered TIFFs read as one series; a 3-channel model sees them as its channels in order."""
    from atomscope.inference import analyse_micrograph, read_focal_series
    from atomscope.io import write_micrograph_tiff

    xy = [np.array([[3.0, 3.0]]), np.array([[6.0, 9.0], [9.0, 4.0]]), np.array([[11.0, 11.0]])]
    paths = []
    for k, positions in enumerate(xy):
        paths.append(tmp_path / f"df{k}.tif")
        write_micrograph_tiff(paths[-1], 1 + gaussian_heatmap(positions, (140, 140), 0.1, sigma=0.5), 0.1)
    series = read_focal_series([str(p) for p in paths])
    assert series.frames.shape == (3, 140, 140) and series.sampling == pytest.approx(0.1)
    channels = tuple(InputChannel(f"hrtem_df{o:+g}", float(o)) for o in (-30, 20, 70))
    heads = (Head("atoms", "heatmap", (HeadClass("atom", ("Mo", "S")),)), Head("centres", "heatmap", (HeadClass("centre"),)))
    spec = ModelSpec("resunet", {"base_channels": 4, "depth": 2}, channels, heads, 0.1, normalisation="standardise")
    config = {"tile_px": 64, "overlap_px": 16, "threshold": 0.5, "min_distance": 0.7}
    for k in range(3):
        images, maps, sites = analyse_micrograph(series, spec, _Channel(k), config, device=torch.device("cpu"))
        assert images.shape == (1, 3, 140, 140) and sites["frame"].eq(0).all()
        np.testing.assert_allclose(np.sort(sites[["x", "y"]].to_numpy(), axis=0), np.sort(xy[k], axis=0), atol=0.05)
    with pytest.raises(ValueError, match=r"focal series of 3 co-registered frames \(defocus offsets -30 Å, \+20 Å, \+70 Å\), the input holds 2"):
        analyse_micrograph(read_focal_series([str(p) for p in paths[:2]]), spec, _Channel(0), config, device=torch.device("cpu"))
    write_micrograph_tiff(tmp_path / "small.tif", np.random.default_rng(0).random((120, 140)), 0.1)
    with pytest.raises(ValueError, match="small.tif: .* must be co-registered images of one size"):
        read_focal_series([str(paths[0]), str(tmp_path / "small.tif")])


def test_neighbour_species_of_a_2h_lattice_alternate():
    """In a projected 2H MoS2 layer every Mo column's three nearest columns are S2 and the reverse."""
    from atomscope.report import neighbour_species
    from atomscope.structures.crystals import tmd_layer, tmd_sites

    sites = tmd_sites(tmd_layer("MoS2", (20.0, 20.0)))
    columns = sites.groupby(["species_class", sites["x"].round(3), sites["y"].round(3)]).size().reset_index()[["species_class", "x", "y"]]
    columns = columns.rename(columns={"species_class": "species"}).assign(kind="atom")
    inner = columns["x"].between(3, 16) & columns["y"].between(3, 16)
    neighbours = neighbour_species(columns)[inner.to_numpy()]
    own = columns.loc[inner, "species"].to_numpy()
    assert (neighbours[own == "Mo"] == "S2").all() and (neighbours[own == "S2"] == "Mo").all() and len(own) > 40


def test_species_scores_count_a_wrong_class_as_a_false_and_a_missed_column():
    from atomscope.io import ImageGrid
    from atomscope.labels import species_scores

    truth = pd.DataFrame({"species_class": ["Mo", "Mo", "S2", "vacancy"], "x": [2.0, 4.0, 6.0, 8.0], "y": 5.0})
    found = pd.DataFrame({"species": ["Mo", "S2", "S2", "vacancy", "Mo"], "x": [2.1, 4.0, 6.0, 8.2, 0.2], "y": 5.0})
    scores = species_scores(found, truth, grid=ImageGrid((100, 100), 0.1), match_radius=0.5, border=1.0).set_index("species")
    assert scores.loc["Mo", ["tp", "fp", "fn"]].tolist() == [1, 0, 1]  # the Mo at x = 0.2 lies in the border
    assert scores.loc["S2", ["tp", "fp", "fn"]].tolist() == [1, 1, 0] and scores.loc["vacancy", "f1"] == 1.0


def test_an_s2_column_is_one_true_site():
    """The two S atoms of an S2 column share (x, y): the truth holds the column once (the GPU
    models' first validation counted it twice, so S2 recall could not pass 0.5)."""
    from atomscope.labels import projected_columns
    from atomscope.structures.crystals import tmd_layer, tmd_sites

    sites = tmd_sites(tmd_layer("MoS2", (12.64, 10.95)))
    columns = projected_columns(sites)
    assert (sites["species_class"] == "S2").sum() == 2 * (columns["species_class"] == "S2").sum()
    assert (columns["species_class"] == "Mo").sum() == (sites["species_class"] == "Mo").sum() == (columns["species_class"] == "S2").sum()


def _tmd_spec() -> ModelSpec:
    classes = tuple(HeadClass(name, species) for name, species in
                    [("background", ()), ("Mo", ("Mo",)), ("W", ("W",)), ("S2", ("S",)), ("Se2", ("Se",)), ("vacancy", ())])
    heads = (Head("atoms", "heatmap", (HeadClass("atom", ("Mo", "W", "S", "Se")),)), Head("species", "classes", classes))
    return ModelSpec("resunet", {"base_channels": 4, "depth": 2}, (InputChannel("adf"),), heads, 0.12)


def test_elements_keep_a_species_model_to_the_classes_of_the_sample():
    from atomscope.inference import allowed_classes
    from atomscope.inference.predict import class_probabilities

    spec = _tmd_spec()
    logits = np.zeros((7, 2, 2), np.float32)
    logits[1:, 0, 0] = [0.0, 2.0, 3.0, 1.0, 0.5, 0.0]  # W most likely, then Mo
    everything = class_probabilities(logits.copy(), spec)[1:, 0, 0]
    assert int(everything.argmax()) == 2 and everything.sum() == pytest.approx(1.0)
    kept = class_probabilities(logits.copy(), spec, ["Mo", "S", "Se"])[1:, 0, 0]
    assert kept[2] == 0 and int(kept.argmax()) == 1 and kept.sum() == pytest.approx(1.0)
    e = np.exp([0.0, 2.0, 1.0, 0.5, 0.0])
    assert kept[[0, 1, 3, 4, 5]] == pytest.approx(e / e.sum(), rel=1e-5)  # a softmax over the classes left
    assert allowed_classes(spec, ["Mo", "S"]).tolist() == [True, True, False, True, False, True]
    with pytest.raises(ValueError, match=r"no class with \['Te'\]"):
        allowed_classes(spec, ["Mo", "Te"])
    carbon = ModelSpec("resunet", {"base_channels": 4, "depth": 2}, (InputChannel("adf"),), spec.heads[:1], 0.12)
    with pytest.raises(ValueError, match="no species head"):
        allowed_classes(carbon, ["C"])
