"""The mapping registry and lay(): one layer laid once, with everything the models need."""

from __future__ import annotations

import re

import pytest

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.mapping import MAPPINGS, LayerMapping, Mapping, lay, mapping
from hwsim.types import Dataflow, Operand
from hwsim.workload.lowering import GemmDims


def test_registry_holds_one_mapping_per_dataflow_behind_the_protocol():
    assert list(MAPPINGS) == ["ws", "os", "is"]
    for name, rule in MAPPINGS.items():
        assert isinstance(rule, Mapping) and rule.name == name and rule.dataflow.value == name
    assert mapping("WS") is MAPPINGS["ws"] and mapping(Dataflow.INPUT_STATIONARY) is MAPPINGS["is"]


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(InputError, match=re.escape("field 'dataflow' = 'xy': unknown dataflow (known: ws, os, is)")):
        mapping("xy")


@pytest.mark.parametrize("name, resident, dims", [("ws", Operand.FILTER, (363, 96, 3025)),
                                                  ("os", Operand.OFMAP, (3025, 96, 363)),
                                                  ("is", Operand.IFMAP, (363, 3025, 96))])
def test_lay_puts_scalesims_dimensions_on_rows_columns_and_time(name, resident, dims):
    lm = lay(GemmDims(m=3025, n=96, k=363), SystolicArray(32, 32, dataflow=name))
    assert isinstance(lm, LayerMapping) and lm.resident is resident and lm.dense and lm.window == 1
    assert (lm.fold.sr, lm.fold.sc, lm.fold.t) == dims
    assert lm.fold.folds == -(-dims[0] // 32) * -(-dims[1] // 32)
    assert list(lm.fold.tiles())[:2] == [(0, 32, 0, 32), (32, 32, 0, 32)]  # column fold outer


def test_stream_tiles_keep_partial_sums_in_half_the_ofmap_sram():
    """ws: a 32-column fold's 32-bit partial sums for T = 3025 outputs are 387,200 bytes; half of 64 KiB holds
    32768 / (32 * 4) = 256 of them, so the stream is cut into tiles of 256."""
    lm = lay(GemmDims(m=3025, n=96, k=363), SystolicArray(32, 32))
    assert lm.stream_tile == 256
    tile = lm.with_stream(256)
    assert (tile.run.m, tile.fold.t) == (256, 256) and tile.fold.sr == 363
    assert lay(GemmDims(m=3025, n=96, k=363), SystolicArray(32, 32, dataflow="os")).stream_tile == 363
    assert lay(GemmDims(m=3025, n=96, k=363), SystolicArray(32, 32, psum_bits=16)).stream_tile == 512


def test_packing_and_nm_compression_are_part_of_the_layout():
    depthwise = GemmDims(m=112 * 112, n=1, k=9, repeat=32)
    packed = lay(depthwise, SystolicArray(64, 64), pack=True)
    assert packed.run == GemmDims(m=112 * 112, n=7, k=63, repeat=5) and packed.packed_groups == 7
    sparse = lay(GemmDims(m=10, n=5, k=13), SystolicArray(4, 4), n_keep=1, m_group=4)
    assert sparse.run.k == 4 and sparse.window == 4 and not sparse.dense  # 3 full groups keep 1, the last 1 of 1
    assert sparse.row_elements == 3 * 1 * 4 + 1 * 1
    with pytest.raises(InputError, match="field 'dataflow' = 'is': is not a SAT mode"):
        lay(GemmDims(m=10, n=5, k=13), SystolicArray(4, 4, dataflow="is"), n_keep=1, m_group=4)


def test_the_partial_sum_width_is_the_architectures():
    """It sets how many partial sums the ofmap SRAM holds (the stream tile) and what a spill costs in DRAM bytes."""
    from hwsim.compose import simulate
    from hwsim.workload.zoo import build

    with pytest.raises(InputError, match=re.escape("field 'psum_bits' = 12: must be a whole number of bytes in bits")):
        SystolicArray(8, 8, psum_bits=12)
    net = build("resnet18_cifar")
    wide = simulate(net, SystolicArray(32, 32, ofmap_sram_kib=8))
    narrow = simulate(net, SystolicArray(32, 32, ofmap_sram_kib=8, psum_bits=16))
    assert narrow.total.compute_cycles < wide.total.compute_cycles  # longer stream tiles: fewer reloads
    assert narrow.total_energy.sram_ofmap_pj < wide.total_energy.sram_ofmap_pj  # narrower accesses
