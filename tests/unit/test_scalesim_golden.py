"""``--compat scalesim`` against what the real SCALE-Sim 3.0.0 reported (tests/golden/scalesim_compute.csv).

Each layer goes through the path a user takes: a one-row SCALE-Sim topology, imported, simulated in compat mode.
Tolerances: cycle and access counts are integers and must be equal; the percentages are SCALE-Sim's floats, so
they must agree to 1e-9 relative (float summation order differs).
"""

from __future__ import annotations

import csv

import pytest

from hwsim.api import SystolicArray, simulate
from hwsim.io.scalesim_csv import read_topology

from tests.conftest import REPO

GOLDEN = list(csv.DictReader(open(REPO / "tests" / "golden" / "scalesim_compute.csv")))


def topology(row, tmp_path):
    path = tmp_path / "topology.csv"
    if row["input_type"] == "gemm":
        path.write_text(f"Layer, M, N, K,\n{row['layer_name']}, {row['M']}, {row['N']}, {row['K']},\n")
    else:
        cells = [row[k] for k in ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride")]
        path.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                        f"Strides,\n{row['layer_name']}, {', '.join(cells)},\n")
    return read_topology(path)


def test_golden_covers_every_dataflow_and_non_square_arrays():
    assert len(GOLDEN) >= 50
    assert {r["dataflow"] for r in GOLDEN} == {"ws", "os", "is"}
    assert {(r["array_rows"], r["array_cols"]) for r in GOLDEN} >= {("32", "32"), ("8", "16"), ("16", "8"), ("64", "64")}
    assert {r["scalesim_version"] for r in GOLDEN} == {"3.0.0"}


@pytest.mark.parametrize("row", GOLDEN, ids=[r["case"] for r in GOLDEN])
def test_compat_mode_reproduces_scalesim(row, tmp_path):
    arch = SystolicArray(int(row["array_rows"]), int(row["array_cols"]), dataflow=row["dataflow"],
                         ifmap_sram_kib=float(row["ifmap_sram_kb"]), filter_sram_kib=float(row["filter_sram_kb"]),
                         ofmap_sram_kib=float(row["ofmap_sram_kb"]),
                         dram_bandwidth_bytes_per_cycle=float(row["bandwidth"]))
    report = simulate(topology(row, tmp_path), arch, compat="scalesim")
    out, _total = report.rows()
    assert out["Total Cycles"] == int(row["total_cycles"])
    assert out["Stall Cycles"] == int(row["stall_cycles"])
    assert out["Overall Util %"] == pytest.approx(float(row["overall_util_pct"]), rel=1e-9)
    assert out["Mapping Efficiency %"] == pytest.approx(float(row["mapping_efficiency_pct"]), rel=1e-9)
    assert out["Compute Util %"] == pytest.approx(float(row["compute_util_pct"]), rel=1e-9)
    assert out["SRAM IFMAP Reads"] == int(row["sram_ifmap_reads"])
    assert out["SRAM Filter Reads"] == int(row["sram_filter_reads"])
    assert out["SRAM OFMAP Writes"] == int(row["sram_ofmap_writes"])
