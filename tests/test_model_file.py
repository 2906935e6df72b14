"""The model file: safetensors weights with a JSON ModelSpec, refusing pickles unread."""

import json
import pickle

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from atomscope.io import Head, HeadClass, InputChannel, ModelSpec, Recipe, config_hash, read_model, write_model
from atomscope.nets import load_model, network_from_spec

SPEC = ModelSpec(
    architecture="resunet",
    architecture_args={"base_channels": 4, "depth": 2},
    input_channels=(InputChannel("hrtem_df+0", 0.0), InputChannel("hrtem_df+50", 50.0)),
    heads=(
        Head("atoms", "heatmap", (HeadClass("atom", ("Mo", "S")),)),
        Head("centres", "heatmap", (HeadClass("centre"),)),
        Head("monolayer", "mask", (HeadClass("monolayer"),)),
        Head("species:S2", "heatmap", (HeadClass("S2", ("S",)),)),
    ),
    pixel_size=0.105,
    normalisation="standardise",
    recipe=Recipe(preset="leist2022", data_hash=config_hash({"simulation": {"mode": "hrtem"}}), training={"steps": 3, "seed": 0}),
    scores={"atoms_f1": 0.9, "atoms_rmse": float("nan")},
)


@pytest.fixture
def net():
    torch.manual_seed(0)
    return network_from_spec(SPEC)


def test_spec_round_trips_through_plain_json():
    text = SPEC.to_json()
    d = json.loads(text)  # strict JSON: a NaN score is stored as null
    assert d["scores"] == {"atoms_f1": 0.9, "atoms_rmse": None} and d["format"] == 1
    assert d["heads"][0] == {"name": "atoms", "kind": "heatmap", "classes": [{"name": "atom", "species": ["Mo", "S"]}]}
    assert ModelSpec.from_json(text) == SPEC and ModelSpec.from_dict(d).to_dict() == d
    assert (SPEC.in_channels, SPEC.out_channels) == (2, 4)


def test_classes_head_takes_one_channel_per_class():
    head = Head("species", "classes", (HeadClass("Mo", ("Mo",)), HeadClass("S2", ("S",)), HeadClass("vacancy")))
    spec = ModelSpec("resunet", {"base_channels": 4, "depth": 2}, (InputChannel("adf"),), (head,), 0.2)
    assert spec.out_channels == 3 and ModelSpec.from_json(spec.to_json()) == spec


def test_spec_rejects_unknown_names_listing_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown normalisation 'zscore'; known: \['local', 'local_context', 'standardise'\]"):
        ModelSpec("resunet", {}, (InputChannel("hrtem"),), SPEC.heads, 0.1, normalisation="zscore")
    with pytest.raises(ValueError, match=r"unknown kind 'boxes'; known: \['heatmap', 'mask', 'classes'\]"):
        Head("atoms", "boxes", (HeadClass("atom"),))
    with pytest.raises(ValueError, match="pixel_size"):
        ModelSpec("resunet", {}, (InputChannel("hrtem"),), SPEC.heads, -0.1)


def test_config_hash_ignores_key_order():
    assert config_hash({"a": 1, "b": {"c": 2, "d": 3}}) == config_hash({"b": {"d": 3, "c": 2}, "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def test_write_then_read_gives_identical_weights_and_spec(tmp_path, net):
    path = tmp_path / "model.safetensors"
    write_model(path, net, SPEC, config={"training": {"steps": 3}})
    spec, state = read_model(path)
    assert spec == SPEC
    expected = net.state_dict()
    assert state.keys() == expected.keys()
    for key, value in expected.items():
        assert state[key].dtype == value.dtype and torch.equal(state[key], value)
    write_model(tmp_path / "from_state.safetensors", expected, SPEC)  # a state dict works as well as a module
    assert read_model(tmp_path / "from_state.safetensors")[0] == SPEC


def test_network_rebuilt_from_the_file_gives_the_same_output(tmp_path, net):
    path = tmp_path / "model.safetensors"
    with torch.no_grad():  # non-trivial batch-norm statistics, so eval mode differs from the defaults
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    write_model(path, net, SPEC)
    spec, rebuilt = load_model(path)
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(2, 2, 32, 32)).astype(np.float32))
    with torch.inference_mode():
        np.testing.assert_array_equal(rebuilt(x).numpy(), net.eval()(x).numpy())
    assert not rebuilt.training


class _Payload:
    """Unpickling this runs ``open(marker, "w").write("pwned")``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (eval, (f"open({self.marker!r}, 'w').write('pwned')",))


@pytest.mark.parametrize("how", ["torch.save", "pickle protocol 2", "pickle protocol 0"])
def test_crafted_pickle_is_refused_without_running_its_code(tmp_path, how):
    marker = tmp_path / "marker"
    pickle.loads(pickle.dumps(_Payload(marker)))  # the payload runs when unpickled ...
    assert marker.read_text() == "pwned"
    marker.unlink()
    path = tmp_path / "model.safetensors"
    payload = {"model": {}, "architecture": _Payload(marker)}
    if how == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=int(how[-1])))
    with pytest.raises(ValueError, match="retrain") as error:  # ... and atomscope never unpickles it
        load_model(path)
    assert str(path) in str(error.value)
    assert not marker.exists()


def test_a_model_pt_of_the_old_layout_is_refused_naming_the_file(tmp_path, net):
    path = tmp_path / "model.pt"
    torch.save({"model": net.state_dict(), "architecture": {"kind": "resunet"}, "sampling": 0.1}, path)
    with pytest.raises(ValueError, match=r"model\.pt: a PyTorch pickle .* retrain it with the train rule"):
        read_model(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not a model at all", "not an atomscope model file"),
        (b"", "not an atomscope model file"),
        ("no spec", "without an atomscope model spec"),
        ("bad spec", "invalid model spec: model spec format None"),
    ],
)
def test_files_that_are_not_models_are_refused_naming_the_file(tmp_path, content, message):
    path = tmp_path / "foreign.safetensors"
    if content == "no spec":
        save_file({"w": torch.zeros(2)}, str(path), metadata={"format": "pt"})
    elif content == "bad spec":
        save_file({"w": torch.zeros(2)}, str(path), metadata={"atomscope_model_spec": json.dumps({"architecture": "resunet"})})
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        read_model(path)
    assert str(path) in str(error.value) and "retrain" in str(error.value)


def test_weights_that_do_not_fit_the_spec_are_refused_naming_the_file(tmp_path, net):
    path = tmp_path / "model.safetensors"
    wider = ModelSpec.from_dict({**SPEC.to_dict(), "architecture_args": {"base_channels": 8, "depth": 2}})
    write_model(path, net, wider)
    with pytest.raises(ValueError, match=r"model\.safetensors: the weights do not fit a resunet"):
        load_model(path)


def test_missing_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.safetensors: no such model"):
        read_model(tmp_path / "absent.safetensors")
