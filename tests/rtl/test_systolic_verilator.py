# amaranth: UnusedElaboratable=no
"""The generated systolic GEMM engine, as Verilog under Verilator, matches the stepped model cycle for cycle.

Per configuration (array shape x dataflow) the engine is generated once with :func:`rtl.generate.generate` into
``build/rtl/systolic_<R>x<C>_<df>/`` under the session's ``rtl_build_root`` (Verilog + JSON sidecar), built by
cocotb's Verilator runner (shared with ``test_cosim.py`` for the same design), and driven by the one bench,
:mod:`rtl.bench`, through its ports: its reference model is :func:`hwsim.sim.stepped.simulate_gemm`, its
scoreboard compares the busy cycle count, the per-cycle edge demand trace, ``done`` and idle monitors, and the
product (against NumPy's, which the model must also produce), and names the first difference.

Case shapes are fixed per configuration (so the memory sizes, hence the Verilog, do not depend on the seed and
the build is reused); operand values are drawn from a seed printed at the start (shown on failure). Set
``HWSIM_RTL_SEED=<n>`` to replay it.

The first tests check :mod:`rtl.generate` itself on the small :class:`rtl.counter.Counter`, which needs no
Verilator build.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
from amaranth.hdl import Module, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hwsim.arch.systolic import SystolicArray
from rtl.bench import save_cases
from rtl.counter import Counter
from rtl.generate import design_stem, generate, port_table, write_design
from rtl.toolchain import build_dir, build_lock
from tests.rtl.harness import operands, run_bench

pytestmark = pytest.mark.rtl


#: Array shapes (rows, cols) and dataflows run under Verilator.
ARRAYS = [(1, 1), (4, 4), (8, 8), (16, 16), (4, 8), (8, 4)]
DATAFLOWS = ["ws", "is", "os"]


# ----------------------------------------------------------------------------------------------------------------
# rtl.generate on small designs
# ----------------------------------------------------------------------------------------------------------------

_DECL = re.compile(r"^\s*(input|output)\s+(?:signed\s+)?(?:\[(\d+):(\d+)\]\s+)?(\w+)\s*;", re.M)


def verilog_ports(text: str, module: str) -> dict[str, tuple[str, int]]:
    """``name -> (direction, width)`` of the port declarations of ``module`` in Amaranth/Yosys Verilog text."""
    header = re.search(rf"^module\s+{module}\s*\(([^)]*)\);", text, re.M)
    assert header, f"no 'module {module}(...)' in the Verilog"
    names = {p.strip() for p in header.group(1).split(",") if p.strip()}
    body = text[header.end():text.index("endmodule", header.end())]
    decls = {name: ("in" if d == "input" else "out", int(hi) - int(lo) + 1 if hi else 1)
             for d, hi, lo, name in _DECL.findall(body)}
    assert names == set(decls), f"header ports {sorted(names)} != declared {sorted(decls)}"
    return decls


def assert_sidecar_matches_verilog(sidecar: dict, verilog: str) -> None:
    """Every sidecar port is a Verilog port of the right direction and total width; the rest are clk and rst."""
    ports = verilog_ports(verilog, sidecar["module"])
    for p in sidecar["ports"]:
        total = p["width"] * (p["shape"] or 1)
        assert ports.get(p["name"]) == (p["direction"], total), f"port {p['name']}: {ports.get(p['name'])} vs {p}"
    extra = set(ports) - {p["name"] for p in sidecar["ports"]}
    assert extra == {sidecar["clock"], sidecar["reset"]}, f"unexpected Verilog ports {sorted(extra)}"


class _Lanes(wiring.Component):
    """A combinational toy with a signed input and an array output (lane l = x + l), for the sidecar format."""

    def __init__(self) -> None:
        super().__init__({"x": In(signed(8)), "lanes": Out(data.ArrayLayout(signed(5), 3))})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        for lane in range(3):
            m.d.comb += self.lanes[lane].eq(self.x + lane)
        return m


def test_write_design_counter(tmp_path):
    out = tmp_path / "new" / "folder"  # created on demand
    v, j = write_design(Counter(4), out, "counter", {"width": 4})
    assert (v, j) == (out / "counter.v", out / "counter.json")
    sidecar = json.loads(j.read_text())
    assert sidecar == {
        "module": "counter", "width": 4,
        "ports": [{"name": "en", "direction": "in", "width": 1, "signed": False, "shape": None},
                  {"name": "count", "direction": "out", "width": 4, "signed": False, "shape": None}],
        "clock": "clk", "reset": "rst",
    }
    assert list(sidecar) == ["module", "width", "ports", "clock", "reset"]
    assert_sidecar_matches_verilog(sidecar, v.read_text())

    # Unchanged output leaves the files alone (their mtime is what make looks at).
    stamps = (v.stat().st_mtime_ns, j.stat().st_mtime_ns)
    os.utime(v, ns=(1, 1))
    os.utime(j, ns=(1, 1))
    write_design(Counter(4), out, "counter", {"width": 4})
    assert (v.stat().st_mtime_ns, j.stat().st_mtime_ns) == (1, 1), stamps


def test_port_table_describes_arrays_per_lane(tmp_path):
    dut = _Lanes()
    assert port_table(dut) == [
        {"name": "x", "direction": "in", "width": 8, "signed": True, "shape": None},
        {"name": "lanes", "direction": "out", "width": 5, "signed": True, "shape": 3},
    ]
    v, j = write_design(dut, tmp_path, "lanes")
    sidecar = json.loads(j.read_text())
    ports = verilog_ports(v.read_text(), "lanes")
    assert ports["lanes"] == ("out", 15)  # one flat vector of width * lanes bits
    assert set(ports) == {"x", "lanes"}  # purely combinational: no clk/rst ports
    assert sidecar["clock"] == "clk"  # still named: it is the convention of every sequential design here


@pytest.mark.parametrize("stem, meta", [("1bad", None), ("a-b", None), ("ok", {"ports": []}), ("ok", {"module": "x"})])
def test_write_design_rejects(tmp_path, stem, meta):
    with pytest.raises(ValueError):
        write_design(Counter(4), tmp_path, stem, meta)


def test_port_table_needs_a_signature():
    with pytest.raises(TypeError):
        port_table(object())


def test_generate_rejects_non_int8(tmp_path):
    arch = SystolicArray(2, 2, precision="int16")
    with pytest.raises(ValueError, match="int8"):
        generate(arch, tmp_path, max_m=4, max_n=4, max_k=4)
    assert not list(tmp_path.iterdir())


# ----------------------------------------------------------------------------------------------------------------
# The engine under Verilator
# ----------------------------------------------------------------------------------------------------------------


def max_dim(rows: int, cols: int) -> int:
    """Largest M, N and K any case uses: room for three row folds (2R+1) and three column folds (2C+1)."""
    return 2 * max(rows, cols) + 1


def gemm_shape(dataflow: str, sr: int, sc: int, t: int) -> tuple[int, int, int]:
    """``(M, K, N)`` of a GEMM whose stationary space is ``sr x sc`` with ``t`` streamed steps.

    The stepped model folds ``Sr`` over the array rows and ``Sc`` over the columns: ws holds B (``Sr=K, Sc=N,
    T=M``), is holds A^T (``Sr=K, Sc=M, T=N``), os keeps O (``Sr=M, Sc=N, T=K``).
    """
    if dataflow == "ws":
        return t, sr, sc
    if dataflow == "is":
        return sc, sr, t
    return sr, t, sc


def case_plan(rows: int, cols: int) -> list[tuple[str, int, int, int, str]]:
    """``(name, Sr, Sc, T, values)`` per case: fixed shapes (the Verilog must not depend on the seed).

    ``values`` is ``random`` (uniform int8), ``zero`` or ``extreme`` (each element -128 or 127).
    """
    big = max_dim(rows, cols)
    return [
        # Smaller than the array in both folded dimensions (on 1x1 nothing is smaller: it equals it).
        ("smaller", max(1, rows // 2), max(1, cols - 1), 3, "random"),
        ("equal", rows, cols, max(rows, cols), "random"),
        # Three row folds x two column folds, the longest stream the memories allow.
        ("larger", 2 * rows + 1, cols + 1, big, "random"),
        ("zero", rows + 1, 2 * cols + 1, 2, "zero"),
        ("extreme", 2 * rows + 1, 2 * cols + 1, min(5, big), "extreme"),
    ]


def make_cases(rows: int, cols: int, dataflow: str, seed: int) -> list[dict]:
    """Operands of every case, for :func:`rtl.bench.save_cases` (the bench runs the stepped model on them)."""
    rng = np.random.default_rng(seed)
    cases = []
    for name, sr, sc, t, values in case_plan(rows, cols):
        m, k, n = gemm_shape(dataflow, sr, sc, t)
        a, b = operands(rng, values, m, k, n)
        cases.append({"name": name, "a": a, "b": b})
    return cases


def check_sidecar(sidecar: dict, verilog: str, rows: int, cols: int, dataflow: str, big: int) -> None:
    """The sidecar says what the spec says the engine's ports are, and agrees with the Verilog."""
    assert {k: sidecar[k] for k in ("module", "rows", "cols", "dataflow", "max_m", "max_n", "max_k")} == {
        "module": design_stem(rows, cols, dataflow), "rows": rows, "cols": cols, "dataflow": dataflow,
        "max_m": big, "max_n": big, "max_k": big}
    ports = {p["name"]: p for p in sidecar["ports"]}
    lanes = {"ws": (rows, cols, cols), "is": (cols, rows, cols), "os": (rows, cols, cols)}[dataflow]
    for name, count in zip(("ifmap_lane", "filter_lane", "ofmap_lane"), lanes):
        p = ports[name]
        assert (p["direction"], p["signed"], p["shape"]) == ("out", True, count), p
        assert 2 ** (p["width"] - 1) > big * big - 1, f"{name}: {p['width']} bits cannot hold index {big * big - 1}"
    for name, (direction, width, is_signed) in {
            "start": ("in", 1, False), "busy": ("out", 1, False), "done": ("out", 1, False),
            "m": ("in", 16, False), "n": ("in", 16, False), "k": ("in", 16, False),
            "a_we": ("in", 1, False), "b_we": ("in", 1, False),
            "a_wdata": ("in", 8, True), "b_wdata": ("in", 8, True), "o_rdata": ("out", 32, True)}.items():
        p = ports[name]
        assert (p["direction"], p["width"], p["signed"], p["shape"]) == (direction, width, is_signed, None), p
    for name in ("a_addr", "b_addr", "o_addr"):
        assert ports[name]["direction"] == "in" and 2 ** ports[name]["width"] >= big * big, ports[name]
    assert_sidecar_matches_verilog(sidecar, verilog)


@pytest.mark.parametrize("dataflow", DATAFLOWS)
@pytest.mark.parametrize("rows, cols", ARRAYS, ids=[f"{r}x{c}" for r, c in ARRAYS])
def test_engine_matches_stepped_model(rows, cols, dataflow, seed, rtl_build_root):
    big = max_dim(rows, cols)
    arch = SystolicArray(rows, cols, dataflow=dataflow)
    stem = design_stem(rows, cols, dataflow)
    bdir = build_dir(stem, root=rtl_build_root)
    cases = bdir / "cases.npz"

    with build_lock(bdir):
        verilog, sidecar = generate(arch, bdir, max_m=big, max_n=big, max_k=big)
        check_sidecar(json.loads(sidecar.read_text()), verilog.read_text(), rows, cols, dataflow, big)
        save_cases(cases, rows=rows, cols=cols, dataflow=dataflow, cases=make_cases(rows, cols, dataflow, seed))
        records = run_bench(verilog=verilog, stem=stem, bdir=bdir, cases=cases, seed=seed)
    assert [r["name"] for r in records] == [plan[0] for plan in case_plan(rows, cols)]
