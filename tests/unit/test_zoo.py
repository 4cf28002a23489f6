"""The bundled workloads: generated from the builders, and true to their published MAC/parameter counts.

Every reference number, its source and the reason for its tolerance live in
``hwsim/workload/zoo/published.json``; this test only reads them.
"""

from __future__ import annotations

import json
from importlib import resources

import pytest

from hwsim.io.workload_json import dumps_network, load_network
from hwsim.workload.zoo import ZOO, build

from tests.conftest import REPO

PUBLISHED = json.loads(resources.files("hwsim.workload.zoo").joinpath("published.json").read_text())
WORKLOADS = REPO / "workloads"


def test_every_zoo_network_has_a_bundled_file_and_published_counts():
    assert {p.stem for p in WORKLOADS.glob("*.json")} == set(ZOO)
    assert set(PUBLISHED) == set(ZOO)


@pytest.mark.parametrize("name", sorted(ZOO))
def test_bundled_file_is_what_the_builder_writes(name):
    text = (WORKLOADS / f"{name}.json").read_text()
    assert text == dumps_network(build(name)), (
        f"workloads/{name}.json is stale: regenerate with 'python -m hwsim.io.zoo'"
    )


@pytest.mark.parametrize("name", sorted(ZOO))
@pytest.mark.parametrize("quantity", ["macs", "params"])
def test_matches_published_count(name, quantity):
    net = load_network(WORKLOADS / f"{name}.json")
    ref = PUBLISHED[name][quantity]
    assert ref["source"] and ref["note"], "every reference number carries its source and why its tolerance"
    ours = getattr(net, quantity)
    assert abs(ours - ref["value"]) <= ref["rel_tol"] * ref["value"], (
        f"{name} {quantity}: ours {ours:,} vs published {ref['value']:,} ({ref['source']})"
    )


@pytest.mark.parametrize("name", sorted(ZOO))
def test_every_network_lowers_every_compute_layer(name):
    net = build(name)
    compute = [s for s in net if s.gemm is not None]
    assert compute, "a DNN without compute layers"
    for s in compute:
        assert min(s.gemm.m, s.gemm.n, s.gemm.k, s.gemm.repeat) >= 1
    assert net.macs == sum(s.gemm.macs for s in compute)


def test_depthwise_layers_lower_to_one_gemm_per_channel():
    net = build("mobilenet_v1")
    dw = [s for s in net if s.kind == "conv2d" and s.gemm.repeat > 1]
    assert len(dw) == 13
    for s in dw:
        channels = s.input_shapes[0][0]
        assert (s.gemm.n, s.gemm.k, s.gemm.repeat) == (1, 9, channels)
