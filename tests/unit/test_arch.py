"""Hardware descriptions: checks on construction, SCALE-Sim .cfg and hwsim JSON files."""

from __future__ import annotations

import json

import pytest

from hwsim.arch import SystolicArray
from hwsim.errors import InputError
from hwsim.io.arch_config import read_arch_json, read_scalesim_cfg
from hwsim.types import Dataflow

from tests.conftest import REPO

STOCK_CFG = REPO / "tests" / "data" / "scalesim" / "scale.cfg"


def test_scalesim_stock_config():
    arch = read_scalesim_cfg(STOCK_CFG)
    assert (arch.rows, arch.cols, arch.dataflow) == (32, 32, Dataflow.WEIGHT_STATIONARY)
    assert (arch.ifmap_sram_kib, arch.filter_sram_kib, arch.ofmap_sram_kib) == (64, 64, 64)
    assert arch.dram_bandwidth_bytes_per_cycle == 10


@pytest.mark.parametrize("edit, message", [
    (("ArrayHeight:    32", "ArrayHeight:    0"), "field 'ArrayHeight' = 0: must be a whole number >= 1"),
    (("Bandwidth : 10", "Bandwidth : 0"), "field 'Bandwidth' = 0.0: must be a number > 0"),
    (("Bandwidth : 10", "Bandwidth : fast"), "field 'Bandwidth' = 'fast': expected a number"),
    (("Dataflow : ws", "Dataflow : xs"), "field 'Dataflow' = 'xs': unknown dataflow (known: ws, os, is, rs)"),
    (("Dataflow : ws", "Dataflow : rs"), "field 'Dataflow' = 'rs': the systolic-array model runs ws, os and is "
     "(row stationary belongs to the Eyeriss-like template)"),
    (("IfmapSramSzkB:   64\n", ""), "field 'IfmapSramSzkB': is required in [architecture_presets]"),
])
def test_bad_scalesim_configs(tmp_path, edit, message):
    text = STOCK_CFG.read_text()
    assert edit[0] in text
    path = tmp_path / "bad.cfg"
    path.write_text(text.replace(edit[0], edit[1]))
    with pytest.raises(InputError) as err:
        read_scalesim_cfg(path)
    assert str(err.value) == f"{path}: {message}"


def test_arch_json_round_trip_and_errors(tmp_path):
    arch = SystolicArray(16, 8, dataflow=Dataflow.OUTPUT_STATIONARY, ofmap_sram_kib=32, clock_mhz=500)
    path = tmp_path / "a.json"
    path.write_text(json.dumps(arch.to_dict()))
    assert read_arch_json(path) == arch
    doc = arch.to_dict()
    doc["rowz"] = 3
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as err:
        read_arch_json(path)
    assert str(err.value).startswith(f"{path}: field 'rowz': unknown key (known: format, version, rows, cols,")


@pytest.mark.parametrize("kwargs, message", [
    (dict(rows=0, cols=64), "field 'rows' = 0: must be a whole number >= 1"),
    (dict(rows=8, cols=8, dram_bandwidth_bytes_per_cycle=-1), "field 'dram_bandwidth_bytes_per_cycle' = -1: must be "
     "a number > 0"),
    (dict(rows=8, cols=8, filter_sram_kib=0), "field 'filter_sram_kib' = 0: must be a number > 0"),
    (dict(rows=8, cols=8, ifmap_bits=0), "field 'ifmap_bits' = 0: must be a whole number of bits from 1 to 64"),
])
def test_bad_arrays(kwargs, message):
    with pytest.raises(InputError) as err:
        SystolicArray(**kwargs)
    assert str(err.value) == message
