"""SCALE-Sim topology CSVs: import reproduces SCALE-Sim's own sizes and MACs; export round-trips."""

from __future__ import annotations

import csv
import math

import pytest

from hwsim.errors import InputError
from hwsim.io.scalesim_csv import read_topology, write_topology
from hwsim.workload import NetworkBuilder
from hwsim.workload.zoo import build

from tests.conftest import REPO

TOPOLOGIES = REPO / "tests" / "data" / "scalesim"


def scalesim_macs(path):
    """SCALE-Sim's topo_calc_hyperparams: ofmap = ceil((H - R + S) / S); MACs = ofmap * R * S * C * F."""
    rows = [r for r in csv.reader(open(path)) if any(c.strip() for c in r)][1:]
    total = 0
    for r in rows:
        h, w, fh, fw, c, f, s = (int(x) for x in r[1:8])
        total += math.ceil((h - fh + s) / s) * math.ceil((w - fw + s) / s) * fh * fw * c * f
    return total


@pytest.mark.parametrize("name", ["resnet50", "mobilenet", "Resnet50_original"])
def test_import_reproduces_scalesim_macs(name):
    path = TOPOLOGIES / f"{name}.csv"
    net = read_topology(path)
    assert net.macs == scalesim_macs(path)
    assert len(net) == 54 if "esnet" in name else len(net) == 27


def test_import_matches_scalesim_recorded_output_size():
    """Resnet50_original.csv records SCALE-Sim's output of Conv1 (224, 7x7, stride 2) as Eh = Ew = 110."""
    net = read_topology(TOPOLOGIES / "Resnet50_original.csv")
    assert net.stats("Conv1").output_shape == (64, 110, 110)
    assert net.stats("Conv1").gemm.m == 12100  # its e2 column


@pytest.mark.parametrize("name", ["resnet50", "mobilenet"])
def test_conv_export_round_trips(tmp_path, name):
    net = read_topology(TOPOLOGIES / f"{name}.csv")
    export = write_topology(net, tmp_path / "out.csv")
    again = read_topology(tmp_path / "out.csv")
    assert export.rows == len(net) and export.left_out == ()
    assert [(s.output_shape, s.gemm) for s in again] == [(s.output_shape, s.gemm) for s in net]


def test_zoo_network_exports_with_depthwise_rows_and_keeps_macs(tmp_path):
    net = build("mobilenet_v1")
    export = write_topology(net, tmp_path / "mb.csv")
    assert export.left_out == ("avgpool",)
    text = (tmp_path / "mb.csv").read_text().splitlines()
    assert text[0] == ("Layer name,IFMAP Height,IFMAP Width,Filter Height,Filter Width,Channels,Num Filter,"
                       "Stride Height,Stride Width,")
    assert text[2] == "conv1_dw_DP,114,114,3,3,32,1,1,1,"
    again = read_topology(tmp_path / "mb.csv")
    assert again.macs == net.macs
    assert [s.gemm for s in again] == [s.gemm for s in net if s.gemm]


def test_gemm_format_both_ways(tmp_path):
    net = build("bert_base")
    export = write_topology(net, tmp_path / "bert.csv", fmt="gemm")
    again = read_topology(tmp_path / "bert.csv")
    assert again.macs == net.macs
    assert (tmp_path / "bert.csv").read_text().splitlines()[0] == "Layer,M,N,K,"
    # attention products have no shared operand, so each (head, sample) is its own GEMM row
    assert export.rows == sum(s.gemm.repeat for s in net if s.gemm)


def test_grouped_conv_exports_one_row_per_group(tmp_path):
    b = NetworkBuilder("g", source="t", inputs={"x": (8, 10, 10)})
    b.conv("grouped", "x", 16, 3, groups=4)
    export = write_topology(b.build(), tmp_path / "g.csv")
    assert export.rows == 4
    assert read_topology(tmp_path / "g.csv").macs == b.build().macs


@pytest.mark.parametrize("content, message", [
    ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
     "Conv1, 224, 224, 3, 3, 3, 0, 1,\n", "layer 'Conv1': field 'Num Filter' = '0': must be a whole number >= 1"),
    ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
     "Conv1, 2, 224, 3, 3, 3, 8, 1,\n", "layer 'Conv1': field 'Filter Height' = 3: filter 3x3 is larger than the "
     "2x224 ifmap"),
    ("Layer, M, N, K,\nfc1, 1, x, 4,\n", "layer 'fc1': field 'N' = 'x': must be a whole number >= 1"),
    ("a,b,c\n1,2,3\n", "value 'a,b,c': header is neither SCALE-Sim's conv format (Layer name, IFMAP Height, ...) "
     "nor its gemm format (Layer, M, N, K)"),
    ("Layer, M, N, K,\nfc1, 1, 2, 4,\nfc1, 1, 2, 4,\n", "layer 'fc1': field 'name' = 'fc1': name is used twice"),
])
def test_bad_topologies(tmp_path, content, message):
    path = tmp_path / "t.csv"
    path.write_text(content)
    with pytest.raises(InputError) as err:
        read_topology(path)
    assert str(err.value) == f"{path}: {message}"


def test_export_refuses_what_scalesim_cannot_express(tmp_path):
    b = NetworkBuilder("d", source="t", inputs={"x": (4, 16, 16)})
    b.conv("dilated", "x", 4, 3, dilation=2)
    with pytest.raises(InputError) as err:
        write_topology(b.build(), tmp_path / "d.csv")
    assert str(err.value) == "layer 'dilated': field 'dilation' = [2, 2]: SCALE-Sim has no dilated convolution"
