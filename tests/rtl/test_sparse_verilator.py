# amaranth: UnusedElaboratable=no
"""The generated N:M sparse GEMM engine, as Verilog under Verilator, matches the sparse stepped model exactly.

Per configuration (4x4, ws and os, 2:4 and 2:8) the engine is generated once with
:func:`rtl.sparse.generate_sparse` into ``build/rtl/sparse_4x4_<df>_<n>of<m>/`` under the session's
``rtl_build_root`` (Verilog + JSON sidecar), built by cocotb's Verilator runner, and driven by the one bench,
:mod:`rtl.bench`, exactly as ``test_systolic_verilator.py`` does for the dense engine: the bench loads the
compressed weights and uses the sparse stepped model as its reference.

The weights are real N:M pruned ones: a random dense ``B`` (``K x N``) goes through
:func:`hwsim.workload.sparsity.compress` along ``K`` (axis 0) and is converted to the model's compressed layout
(:func:`tests.rtl.test_sparse_amaranth.model_layout`). Expectations -- product, busy cycles and the per-cycle
demand trace -- come from :func:`hwsim.sim.sparse.simulate_sparse_gemm`; the product is checked against NumPy's
``A @ pruned B``, which the model must also produce.

Case shapes are fixed per configuration (the Verilog must not depend on the seed, or the build would not be
reused): smaller than the array, equal to it, larger (three row and three column folds), and -128/127 extremes;
``K`` is never a multiple of ``m_group``. Values come from a printed seed; replay with ``HWSIM_RTL_SEED=<n>``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwsim.arch.systolic import SystolicArray
from hwsim.sim.sparse import compressed_rows
from rtl.bench import save_cases
from rtl.sparse import generate_sparse, sparse_design_stem
from rtl.toolchain import build_dir, build_lock
from tests.rtl.harness import operands, run_bench
from tests.rtl.test_sparse_amaranth import k_for_rows, model_layout
from tests.rtl.test_systolic_verilator import assert_sidecar_matches_verilog

pytestmark = pytest.mark.rtl


ROWS = COLS = 4
#: ``(dataflow, n_keep, m_group)`` run under Verilator: M = 4 and M = 8, both SAT modes.
CONFIGS = [("ws", 2, 4), ("os", 2, 4), ("ws", 2, 8), ("os", 2, 8)]


def case_plan(dataflow: str, n_keep: int, m_group: int) -> list[tuple[str, int, int, int, str]]:
    """``(name, M, K, N, values)`` per case, fixed for a configuration.

    Sizes are chosen in the fold space (ws: ``Sr = K'``, ``Sc = N``, ``T = M``; os: ``Sr = M``, ``Sc = N``, ``T =
    K'``) and ``K`` is the one :func:`~tests.rtl.test_sparse_amaranth.k_for_rows` gives for the wanted ``K'``: never
    a multiple of ``m_group`` (the last group is partial, its window clipped at ``K``).
    """
    plan = [
        ("smaller", ROWS - 1, COLS - 1, 2, "random"),
        ("equal", ROWS, COLS, ROWS + 1, "random"),
        ("larger", 2 * ROWS + 1, 2 * COLS + 1, 5, "random"),
        ("extreme", ROWS + 2, COLS + 1, 3, "extreme"),
    ]
    cases = []
    for name, sr, sc, t, values in plan:
        m, kc = (t, sr) if dataflow == "ws" else (sr, t)
        cases.append((name, m, k_for_rows(kc, n_keep, m_group), sc, values))
    return cases


def make_cases(dataflow: str, n_keep: int, m_group: int, seed: int) -> list[dict]:
    """Operands of every case in the model's compressed layout, and NumPy's ``A @ pruned B``, for
    :func:`rtl.bench.save_cases` (the bench runs the sparse stepped model on them)."""
    rng = np.random.default_rng(seed)
    cases = []
    for name, m, k, n, values in case_plan(dataflow, n_keep, m_group):
        a, b = operands(rng, values, m, k, n)
        kept, index, pruned = model_layout(b, n_keep, m_group)
        cases.append({"name": name, "a": a, "values": kept, "indices": index, "k": k,
                      "product": a.astype(np.int32) @ pruned.astype(np.int32)})
    return cases


def max_sizes(dataflow: str, n_keep: int, m_group: int) -> dict[str, int]:
    """Memory limits: the largest ``M``, ``N`` and ``K`` of the plan (fixed per configuration)."""
    plan = case_plan(dataflow, n_keep, m_group)
    return {"max_m": max(c[1] for c in plan), "max_k": max(c[2] for c in plan), "max_n": max(c[3] for c in plan)}


def check_sidecar(sidecar: dict, verilog: str, stem: str, dataflow: str, n_keep: int, m_group: int,
                  limits: dict[str, int]) -> None:
    """The sidecar names the configuration and the compressed load port, and agrees with the Verilog."""
    assert {k: sidecar[k] for k in ("module", "rows", "cols", "dataflow", "n_keep", "m_group", *limits)} == {
        "module": stem, "rows": ROWS, "cols": COLS, "dataflow": dataflow, "n_keep": n_keep, "m_group": m_group,
        **limits}
    ports = {p["name"]: p for p in sidecar["ports"]}
    for name, (direction, width, is_signed) in {
            "w_we": ("in", 1, False), "w_value": ("in", 8, True), "w_index": ("in", (m_group - 1).bit_length(), False),
            "a_wdata": ("in", 8, True), "o_rdata": ("out", 32, True)}.items():
        p = ports[name]
        assert (p["direction"], p["width"], p["signed"], p["shape"]) == (direction, width, is_signed, None), p
    for name, lanes in (("ifmap_lane", ROWS), ("filter_lane", COLS), ("ofmap_lane", COLS)):
        assert (ports[name]["direction"], ports[name]["signed"], ports[name]["shape"]) == ("out", True, lanes)
    depth = compressed_rows(limits["max_k"], n_keep, m_group) * limits["max_n"]
    assert 2 ** ports["w_addr"]["width"] >= depth, ports["w_addr"]
    assert_sidecar_matches_verilog(sidecar, verilog)


@pytest.mark.parametrize(("dataflow", "n_keep", "m_group"), CONFIGS, ids=[f"{d}-{n}of{m}" for d, n, m in CONFIGS])
def test_sparse_engine_matches_stepped_model(dataflow, n_keep, m_group, seed, rtl_build_root):
    limits = max_sizes(dataflow, n_keep, m_group)
    arch = SystolicArray(ROWS, COLS, dataflow=dataflow)
    stem = sparse_design_stem(ROWS, COLS, dataflow, n_keep, m_group)
    bdir = build_dir(stem, root=rtl_build_root)
    cases = bdir / "cases.npz"

    with build_lock(bdir):
        verilog, sidecar = generate_sparse(arch, bdir, n_keep=n_keep, m_group=m_group, **limits)
        check_sidecar(json.loads(sidecar.read_text()), verilog.read_text(), stem, dataflow, n_keep, m_group, limits)
        save_cases(cases, rows=ROWS, cols=COLS, dataflow=dataflow, n_keep=n_keep, m_group=m_group,
                   cases=make_cases(dataflow, n_keep, m_group, seed))
        records = run_bench(verilog=verilog, stem=stem, bdir=bdir, cases=cases, seed=seed)
    assert [r["name"] for r in records] == [plan[0] for plan in case_plan(dataflow, n_keep, m_group)]
