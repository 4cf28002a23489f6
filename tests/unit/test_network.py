"""The network DAG: references, cycles, order, outputs, totals."""

from __future__ import annotations

import pickle

import networkx as nx
import pytest

from hwsim.errors import InputError
from hwsim.workload import NetworkBuilder, Network
from hwsim.workload import layers as L


def residual_block() -> Network:
    b = NetworkBuilder("res", source="test", inputs={"x": (8, 16, 16)}, batch=4)
    a = b.conv("a", "x", 8, 3, padding=1, batchnorm=True, activation="relu")
    c = b.conv("c", a, 8, 3, padding=1, batchnorm=True)
    b.eltwise("add", [c, "x"], "add", activation="relu")
    return b.build()


def test_totals_are_sums_over_layers_and_batch_scales_macs_not_params():
    net = residual_block()
    per_conv = 16 * 16 * 8 * 9 * 8
    assert net.macs == 4 * 2 * per_conv
    assert net.params == 2 * (9 * 8 * 8 + 16)
    assert net.stats("add").macs == 0
    assert net.outputs() == ("add",)


def test_layers_in_any_order_are_sorted_topologically():
    layers = (
        L.Eltwise(name="sum", inputs=("p", "q"), op="add"),
        L.Conv2d(name="q", inputs=("p",), out_channels=4, kernel=1),
        L.Conv2d(name="p", inputs=("x",), out_channels=4, kernel=1),
    )
    net = Network(name="n", source="t", inputs={"x": (4, 2, 2)}, layers=layers)
    assert net.order == ("p", "q", "sum")
    assert list(nx.topological_sort(net.graph()))[0] == "x"


def test_self_loop_is_a_cycle():
    with pytest.raises(InputError) as err:
        Network(name="n", source="t", inputs={"x": (4, 2, 2)},
                layers=(L.Eltwise(name="e", inputs=("e", "x"), op="add"),))
    assert str(err.value) == "layer 'e': field 'inputs': the layers form a cycle: e -> e"


def test_layer_may_not_reuse_an_input_name():
    with pytest.raises(InputError) as err:
        Network(name="n", source="t", inputs={"x": (4, 2, 2)},
                layers=(L.Conv2d(name="x", inputs=("x",), out_channels=4, kernel=1),))
    assert str(err.value) == "layer 'x': field 'name' = 'x': name is used twice"


def test_shapes_must_chain():
    with pytest.raises(InputError) as err:
        Network(name="n", source="t", inputs={"x": (4, 8, 8)}, layers=(
            L.FullyConnected(name="f", inputs=("x",), out_features=10),
            L.Conv2d(name="b", inputs=("f",), out_channels=4, kernel=1),
        ))
    assert str(err.value) == "layer 'b': field 'inputs' = [10]: expects a (C, H, W) feature map"


def test_network_is_hashable_and_pickles():
    net = residual_block()
    assert pickle.loads(pickle.dumps(net)) == net
    assert hash(net) == hash(pickle.loads(pickle.dumps(net)))


def test_empty_network_and_bad_batch():
    with pytest.raises(InputError) as err:
        Network(name="n", source="t", inputs={"x": (1,)}, layers=())
    assert str(err.value) == "field 'layers' = []: a network needs at least one layer"
    with pytest.raises(InputError) as err:
        Network(name="n", source="t", inputs={"x": (4, 2, 2)}, batch=0,
                layers=(L.Conv2d(name="a", inputs=("x",), out_channels=4, kernel=1),))
    assert str(err.value) == "field 'batch' = 0: must be a whole number >= 1"
