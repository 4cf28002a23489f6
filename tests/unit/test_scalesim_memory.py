"""SCALE-Sim's DRAM side in ``--compat scalesim`` (hwsim/sim/scalesim_memory.py): the closed forms against a walk
over every word, and the DRAM term it gives compat energy. The goldens are in test_scalesim_golden.py."""

from __future__ import annotations

import csv
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hwsim.api import SystolicArray
from hwsim.cli import main
from hwsim.errors import InputError
from hwsim.mapping import lay
from hwsim.sim.engine import gemm_counts
from hwsim.sim.scalesim_memory import _block_misses
from hwsim.workload.lowering import GemmDims

from tests.conftest import REPO


def walk_misses(blocks, reset):
    """CALC's read buffer word by word: a word is fetched unless it entered since the last reset; after ``reset``
    fetched words the buffer forgets everything (blocks are ``(distinct words, passes)``, no word shared)."""
    held, fetched, first = set(), 0, 0
    for d, passes in blocks:
        for _ in range(passes):
            for word in range(first, first + d):
                if word in held:
                    continue
                held.add(word)
                fetched += 1
                if len(held) == reset:
                    held.clear()
        first += d
    return fetched


@given(st.lists(st.tuples(st.integers(1, 60), st.integers(1, 4)), min_size=1, max_size=5), st.integers(1, 50))
def test_block_closed_form_equals_a_walk_over_every_word(blocks, reset):
    held, fetched = 0, 0
    for d, passes in blocks:
        misses, held = _block_misses(held, d, passes, reset)
        fetched += misses
    assert fetched == walk_misses(blocks, reset)


def test_compat_energy_includes_dram(tmp_path):
    out = tmp_path / "r.json"
    assert main(["run", "resnet50", "--array", "64x64", "--compat", "scalesim", "--json", str(out), "--quiet"]) == 0
    doc = json.loads(out.read_text())
    total = doc["total"]
    dram = total["DRAM IFMAP Read Bytes"] + total["DRAM Filter Read Bytes"] + total["DRAM OFMAP Write Bytes"]
    assert dram > 0 and total["Energy DRAM pJ"] > 0
    assert total["Total Cycles (incl. prefetch)"] > total["Total Cycles"]
    # every layer that moves data pays for it: the DRAM term is the priced bytes, not a constant
    for row in doc["layers"]:
        moved = row["DRAM IFMAP Read Bytes"] + row["DRAM Filter Read Bytes"] + row["DRAM OFMAP Write Bytes"]
        assert (row["Energy DRAM pJ"] > 0) == (moved > 0)


def test_compat_refuses_a_read_buffer_scalesim_cannot_split():
    arch = SystolicArray(8, 8, ifmap_sram_kib=0.05, interface_bandwidth="CALC")
    with pytest.raises(InputError) as err:
        gemm_counts(lay(GemmDims(m=10, n=10, k=10), arch), arch, compat=True)
    assert str(err.value) == ("field 'ifmap_sram_kib' = 0.05: --compat scalesim needs at least 100 words "
                              "(SCALE-Sim splits it into 100 sets)")


def test_a_user_cfg_reproduces_the_golden_row(tmp_path):
    """The path a SCALE-Sim user takes: the stock scale.cfg switched to USER at 50 words per cycle (hwsim reads one
    DRAM bandwidth; the golden run set the [layout] read bandwidths to it too) and an MNK topology."""
    golden = {r["case"]: r for r in csv.DictReader(open(REPO / "tests" / "golden" / "scalesim_compute.csv"))}
    row = golden["gemm_197x64x197_32x32_ws_user50"]
    cfg = (REPO / "tests" / "data" / "scalesim" / "scale.cfg").read_text()
    cfg = cfg.replace("InterfaceBandwidth: CALC", "InterfaceBandwidth: USER").replace("Bandwidth : 10", "Bandwidth : 50")
    (tmp_path / "scale.cfg").write_text(cfg)
    (tmp_path / "topo.csv").write_text("Layer, M, N, K,\ngemm, 197, 64, 197,\n")
    out = tmp_path / "r.json"
    assert main(["run", str(tmp_path / "topo.csv"), "--config", str(tmp_path / "scale.cfg"), "--compat", "scalesim",
                 "--json", str(out), "--quiet"]) == 0
    total = json.loads(out.read_text())["total"]
    assert total["Total Cycles"] == int(row["total_cycles"])
    assert total["Stall Cycles"] == int(row["stall_cycles"])
    assert total["Total Cycles (incl. prefetch)"] == int(row["total_cycles_incl_prefetch"])
    assert total["DRAM IFMAP Read Bytes"] == int(row["dram_ifmap_reads"])
    assert total["DRAM Filter Read Bytes"] == int(row["dram_filter_reads"])
    assert total["DRAM OFMAP Write Bytes"] == int(row["dram_ofmap_writes"])
