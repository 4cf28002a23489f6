"""``hwsim rtl compare`` end to end: the generated engine on Verilator against the cycle models.

The command runs :func:`rtl.cosim.run_gemms`, which builds the engine in ``build/rtl/systolic_<R>x<C>_<df>/`` (here
under the session's ``rtl_build_root``, the folder ``test_systolic_verilator.py`` builds too, so the build is
shared) and runs the bench :mod:`rtl.bench` on it. The
checks do not take the command's word for anything:

* every measured cycle count equals the fold formula ``ceil(Sr/R) * ceil(Sc/C) * (2R + C + T - 2)`` computed here;
* the raw product the bench read back equals NumPy's ``A @ B`` of the operands it was given (both files read here);
* a model that disagrees with the RTL by one cycle turns the verdict into a mismatch, exit 1.

Operands come from the printed seed (``HWSIM_RTL_SEED=<n>`` replays).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

import rtl.cosim
from hwsim.arch.systolic import SystolicArray
from hwsim.cli import main
from rtl.cosim import CosimError, run_cocotb, run_gemms
from rtl.generate import design_stem, generate
from rtl.toolchain import build_dir, build_lock

pytestmark = pytest.mark.rtl

ROWS = COLS = 4


def fold_formula(m: int, n: int, k: int, dataflow: str) -> int:
    """Cycles of a GEMM on the ROWS x COLS array: folds times ``2R + C + T - 2`` (README, 'Compute')."""
    sr, sc, t = {"ws": (k, n, m), "is": (k, m, n), "os": (m, n, k)}[dataflow]
    return math.ceil(sr / ROWS) * math.ceil(sc / COLS) * (2 * ROWS + COLS + t - 2)


@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
def test_rtl_compare_measures_what_the_models_predict(capsys, tmp_path, dataflow, seed, rtl_build_root):
    # The command builds in rtl.cosim.default_build_root(): here the session's folder (conftest), shared with
    # test_systolic_verilator.py's design of the same size.
    out_json, plot = tmp_path / "cosim.json", tmp_path / "cosim.png"
    code = main(["rtl", "compare", "--array", f"{ROWS}x{COLS}", "--dataflow", dataflow, "--gemms", "6", "--seed",
                 str(seed), "--json", str(out_json), "--plot", str(plot)])
    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), f"{err} (HWSIM_RTL_SEED={seed})"
    assert out.splitlines()[-1].startswith("RTL cycles equal the stepped model's and the fast engine's")

    doc = json.loads(out_json.read_text())
    gemms = doc["gemms"]
    assert doc["agree"] is True and len(gemms) == 6
    for g in gemms:
        formula = fold_formula(g["m"], g["n"], g["k"], dataflow)
        assert g["rtl_cycles"] == g["stepped_cycles"] == g["engine_cycles"] == formula, (g, seed)
        assert g["outputs_match"] is True
    assert len({g["rtl_cycles"] for g in gemms}) >= 5  # shapes that tell the dataflow's cycle counts apart

    # The bench's own files: the operands it drove and the product it read back.
    bdir = build_dir(design_stem(ROWS, COLS, dataflow), root=rtl_build_root)
    with build_lock(bdir):
        measured = json.loads((bdir / "cosim_results.json").read_text())["cases"]
        with np.load(bdir / "cosim_cases.npz") as cases:
            for i, (g, got) in enumerate(zip(gemms, measured, strict=True)):
                a, b = cases[f"a{i}"], cases[f"b{i}"]
                assert (a.shape, b.shape) == ((g["m"], g["k"]), (g["k"], g["n"]))
                want = a.astype(np.int64) @ b.astype(np.int64)
                np.testing.assert_array_equal(np.array(got["outputs"]).reshape(want.shape), want)
                assert got["cycles"] == g["rtl_cycles"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rtl_compare_reports_a_model_that_disagrees(capsys, monkeypatch, seed):
    """Through the seam the RTL is judged by: a fast engine one cycle off must come out as a mismatch."""
    real = rtl.cosim.gemm_compute

    def one_cycle_late(*args, **kwargs):
        counts = real(*args, **kwargs)
        return replace(counts, cycles=counts.cycles + 1)

    monkeypatch.setattr(rtl.cosim, "gemm_compute", one_cycle_late)
    capsys.readouterr()  # the seed fixture's line
    code = main(["rtl", "compare", "--array", f"{ROWS}x{COLS}", "--dataflow", "ws", "--gemms", "2", "--seed",
                 str(seed), "--quiet"])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err.startswith("hwsim: rtl compare: MISMATCH in 2 of 2 GEMMs: GEMM 0 (4x4x4: cycles RTL 14, stepped 14, "
                          "engine 15)"), err


def test_a_design_with_larger_memories_builds_apart(tmp_path, seed):
    arch = SystolicArray(2, 2, dataflow="os")
    records = run_gemms(arch, [(7, 1, 2), (1, 1, 1)], seed=seed, build_root=tmp_path)
    assert [r.agrees for r in records] == [True, True], [r.to_dict() for r in records]
    assert [p.name for p in (tmp_path / "build" / "rtl").iterdir()] == ["systolic_2x2_os_mnk7x5x5"]
    sidecar = json.loads((tmp_path / "build" / "rtl" / "systolic_2x2_os_mnk7x5x5" / "systolic_2x2_os.json").read_text())
    assert (sidecar["max_m"], sidecar["max_n"], sidecar["max_k"]) == (7, 5, 5)


def test_run_cocotb_fails_when_no_test_passes(seed, rtl_build_root):
    """Zero tests run (a module that does not exist) must be an error, not a pass."""
    arch = SystolicArray(ROWS, COLS, dataflow="ws")
    bdir = build_dir(design_stem(ROWS, COLS, "ws"), root=rtl_build_root)
    with build_lock(bdir):
        limit = rtl.cosim.default_limit(arch)
        verilog, _ = generate(arch, bdir, max_m=limit, max_n=limit, max_k=limit)
        with pytest.raises(CosimError, match="rtl.no_such_bench"):
            run_cocotb(verilog=verilog, toplevel=design_stem(ROWS, COLS, "ws"), bdir=bdir,
                       test_module="rtl.no_such_bench", test_dir=bdir, seed=seed, log_prefix="missing_")
