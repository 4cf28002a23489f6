"""``--compat scalesim`` against what the real SCALE-Sim 3.0.0 reported (tests/golden/scalesim_compute.csv).

Each layer goes through the path a user takes: a one-row SCALE-Sim topology, imported, simulated in compat mode.
Tolerances: cycle and access counts are integers and must be equal; the percentages are SCALE-Sim's floats, so
they must agree to 1e-9 relative (float summation order differs). The DRAM side (reads, writes, stalls, total
incl. prefetch) is equal too, except where a test below names the SCALE-Sim behaviour hwsim does not follow and
the bound it keeps instead (README, "--compat scalesim", DRAM side).
"""

from __future__ import annotations

import csv
import math

import pytest

from hwsim.api import SystolicArray, simulate
from hwsim.io.scalesim_csv import read_topology

from tests.conftest import REPO

GOLDEN = list(csv.DictReader(open(REPO / "tests" / "golden" / "scalesim_compute.csv")))
CALC = [r for r in GOLDEN if r["interface_bandwidth"] == "CALC"]
USER = [r for r in GOLDEN if r["interface_bandwidth"] == "USER"]


def topology(row, tmp_path):
    path = tmp_path / "topology.csv"
    if row["input_type"] == "gemm":
        path.write_text(f"Layer, M, N, K,\n{row['layer_name']}, {row['M']}, {row['N']}, {row['K']},\n")
    else:
        cells = [row[k] for k in ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride")]
        path.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                        f"Strides,\n{row['layer_name']}, {', '.join(cells)},\n")
    return read_topology(path)


def run(row, tmp_path):
    arch = SystolicArray(int(row["array_rows"]), int(row["array_cols"]), dataflow=row["dataflow"],
                         ifmap_sram_kib=float(row["ifmap_sram_kb"]), filter_sram_kib=float(row["filter_sram_kb"]),
                         ofmap_sram_kib=float(row["ofmap_sram_kb"]),
                         dram_bandwidth_bytes_per_cycle=float(row["bandwidth"]),
                         interface_bandwidth=row["interface_bandwidth"])
    report = simulate(topology(row, tmp_path), arch, compat="scalesim")
    out, _total = report.rows()
    return out, report.layers[0]


def conv_geometry(row):
    """(windows hwsim lays out, windows inside the ifmap, whether windows share pixels, distinct ifmap words)."""
    h, w, fh, fw, _c, _f, s = (int(row[k]) for k in ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels",
                                                     "num_filters", "stride"))
    laid = math.ceil((h - fh + s) / s) * math.ceil((w - fw + s) / s)  # SCALE-Sim's ofmap size (rounded up)
    inside = ((h - fh) // s + 1) * ((w - fw) // s + 1)
    touched_h = min(h, (h - fh) // s * s + fh) if fh >= s else ((h - fh) // s + 1) * fh
    touched_w = min(w, (w - fw) // s * s + fw) if fw >= s else ((w - fw) // s + 1) * fw
    return laid, inside, fh > s or fw > s, touched_h * touched_w * int(row["channels"])


RESET_WORDS = 50 * (64 * 1024 // 100)  # CALC: a read buffer forgets everything after this many new words


def test_golden_covers_every_dataflow_and_non_square_arrays():
    assert len(CALC) >= 50
    assert {r["dataflow"] for r in GOLDEN} == {"ws", "os", "is"}
    assert {(r["array_rows"], r["array_cols"]) for r in GOLDEN} >= {("32", "32"), ("8", "16"), ("16", "8"), ("64", "64")}
    assert {r["scalesim_version"] for r in GOLDEN} == {"3.0.0"}


def test_golden_covers_user_bandwidths_for_conv_and_gemm():
    assert {r["bandwidth"] for r in USER} == {"10", "50", "100"}
    assert {r["input_type"] for r in USER} == {"conv", "gemm"} and {r["dataflow"] for r in USER} == {"ws", "os", "is"}
    assert len({(r["array_rows"], r["array_cols"]) for r in USER}) >= 2


@pytest.mark.parametrize("row", GOLDEN, ids=[r["case"] for r in GOLDEN])
def test_compute_side_reproduces_scalesim(row, tmp_path):
    out, _layer = run(row, tmp_path)
    assert out["Overall Util %"] * out["Total Cycles"] == pytest.approx(
        float(row["overall_util_pct"]) * int(row["total_cycles"]), rel=1e-9)
    assert out["Mapping Efficiency %"] == pytest.approx(float(row["mapping_efficiency_pct"]), rel=1e-9)
    assert out["Compute Util %"] == pytest.approx(float(row["compute_util_pct"]), rel=1e-9)
    assert out["SRAM IFMAP Reads"] == int(row["sram_ifmap_reads"])
    assert out["SRAM Filter Reads"] == int(row["sram_filter_reads"])
    assert out["SRAM OFMAP Writes"] == int(row["sram_ofmap_writes"])


@pytest.mark.parametrize("row", CALC, ids=[r["case"] for r in CALC])
def test_calc_dram_side_reproduces_scalesim(row, tmp_path):
    out, layer = run(row, tmp_path)
    assert out["Total Cycles"] == int(row["total_cycles"])
    assert out["Stall Cycles"] == int(row["stall_cycles"]) == 0
    assert layer.total_cycles_with_prefetch == int(row["total_cycles_incl_prefetch"])
    assert layer.filter_dram_read_bytes == int(row["dram_filter_reads"])
    assert layer.ofmap_dram_write_bytes == int(row["dram_ofmap_writes"])
    got, want = layer.ifmap_dram_read_bytes, int(row["dram_ifmap_reads"])
    if row["input_type"] == "gemm":
        assert got == want
        return
    laid, inside, overlapping, distinct = conv_geometry(row)
    if overlapping and distinct >= RESET_WORDS and row["dataflow"] == "ws":
        # Windows that share pixels re-read them in an order only the window geometry gives (not in the GEMM hwsim
        # sees): hwsim fetches every demanded word again, SCALE-Sim keeps the re-reads that fall before a reset.
        # Bound: SCALE-Sim <= hwsim = SRAM reads, and hwsim is exact when a fold's rows are one filter tap's channels.
        assert want <= got == int(row["sram_ifmap_reads"])
    elif overlapping and distinct >= RESET_WORDS:
        # Same cause; is/os: hwsim fetches each distinct pixel once per pass, SCALE-Sim 8-59 % more (measured).
        assert 0.62 * want <= got <= want
    elif laid != inside:
        # SCALE-Sim rounds the output size up; the windows that run off the ifmap have no addresses and are never
        # fetched. hwsim's compat memory sees only the GEMM (M = laid windows) and fetches them: exactly laid/inside.
        assert got * inside == want * laid
    else:
        assert got == want


# USER rows hwsim does not reproduce exactly: the SCALE-Sim behaviour behind each, and the tolerance kept.
DUPLICATES = ("Overlapping depthwise windows put a pixel in several sets of the fetch order; SCALE-Sim's "
              "active_buffer_hit finds it in any set of its window, hwsim's window walk counts sets by position.")
DRAIN = ("Below the array width in words per cycle the ofmap buffer stalls the array too, and each wait delays the "
         "clock of the other buffers' next fetches; hwsim places the read stalls first and the ofmap's on that clock, "
         "so where both wait it counts a little more.")
USER_TOLERANCES = {
    "mobilenet_conv14_dw_32x32_is_user10": (DUPLICATES, 0.09),
    "mobilenet_conv14_dw_32x32_is_user50": (DUPLICATES, 0.09),
    "mobilenet_conv14_dw_32x32_is_user100": (DUPLICATES, 0.09),
    "mobilenet_conv14_dw_32x32_ws_user10": (DUPLICATES, 0.01),
    "mobilenet_conv14_dw_32x32_ws_user50": (DUPLICATES, 0.01),
    "mobilenet_conv14_dw_32x32_os_user10": (DUPLICATES, 0.01),
    "mobilenet_conv14_dw_32x32_os_user50": (DUPLICATES, 0.01),
    "mobilenet_conv14_dw_32x32_os_user100": (DUPLICATES, 0.01),
    "mobilenet_conv13_pw_32x32_ws_user10": (DRAIN, 0.03),
    "resnet50_cb4b_2_32x32_ws_user10": (DRAIN, 0.05),
    "resnet50_cb4b_2_32x32_is_user10": (DRAIN, 0.01),
}
USER_EXACT = [r for r in USER if r["case"] not in USER_TOLERANCES]
USER_OTHER = [r for r in USER if r["case"] in USER_TOLERANCES]


@pytest.mark.parametrize("row", USER_EXACT, ids=[r["case"] for r in USER_EXACT])
def test_user_dram_side_reproduces_scalesim(row, tmp_path):
    out, layer = run(row, tmp_path)
    assert out["Total Cycles"] == int(row["total_cycles"])
    assert out["Stall Cycles"] == int(row["stall_cycles"])
    assert layer.total_cycles_with_prefetch == int(row["total_cycles_incl_prefetch"])
    assert layer.ifmap_dram_read_bytes == int(row["dram_ifmap_reads"])
    assert layer.filter_dram_read_bytes == int(row["dram_filter_reads"])
    assert layer.ofmap_dram_write_bytes == int(row["dram_ofmap_writes"])


@pytest.mark.parametrize("row", USER_OTHER, ids=[r["case"] for r in USER_OTHER])
def test_user_dram_side_within_tolerance(row, tmp_path):
    """The tolerance of each row sits next to its reason in USER_TOLERANCES."""
    _reason, tolerance = USER_TOLERANCES[row["case"]]
    out, layer = run(row, tmp_path)
    got = {"stalls": out["Stall Cycles"], "total": out["Total Cycles"],
           "incl_prefetch": layer.total_cycles_with_prefetch, "ifmap": layer.ifmap_dram_read_bytes,
           "filter": layer.filter_dram_read_bytes}
    want = {"stalls": int(row["stall_cycles"]), "total": int(row["total_cycles"]),
            "incl_prefetch": int(row["total_cycles_incl_prefetch"]), "ifmap": int(row["dram_ifmap_reads"]),
            "filter": int(row["dram_filter_reads"])}
    # writes: a drain placed a cycle off closes a line a few words earlier or later (< 0.02 %)
    assert layer.ofmap_dram_write_bytes == pytest.approx(int(row["dram_ofmap_writes"]), rel=2e-4)
    for column in got:
        if column == "stalls" and want[column] < 1000:  # a few hundred cycles: the relative bound is meaningless
            assert abs(got[column] - want[column]) <= 200, column
        else:
            assert got[column] == pytest.approx(want[column], rel=tolerance), column
