"""The --plot paths of the CLI (SAT training, SAT sparsity sweeps, RTL vs model) and the data behind them.

``hwsim rtl compare`` is driven here with the co-simulation replaced by fixed records (no Verilator): what is
under test is the command's reporting, exit codes and files. The real run is ``tests/rtl/test_cosim.py``.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import rtl.cosim
from hwsim.arch.sat import SatArray
from hwsim.arch.systolic import SystolicArray
from hwsim.cli import main
from hwsim.errors import InputError
from hwsim.report.plots import rtl_vs_model, sat_training
from hwsim.compose import simulate_training
from hwsim.workload.training import Pass
from hwsim.workload.zoo import build as bundled_network
from rtl.cosim import GemmRecord, default_limit, default_shapes, design_limits, judge, make_cases

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def is_png(path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 1000


def bar_heights(ax) -> list[float]:
    return [patch.get_height() for patch in ax.patches]


# ------------------------------------------------------------------------------------------------------------------
# hwsim run --sat --plot
# ------------------------------------------------------------------------------------------------------------------


def test_sat_training_plot(capsys, tmp_path):
    plot = tmp_path / "sat.png"
    code, out, err = run(capsys, "run", "resnet9_cifar", "--sat", "--train", "--sparsity", "2:8", "--plot", str(plot))
    assert code == 0 and err == ""
    assert is_png(plot)
    assert out.splitlines()[-1].endswith("over dense training on the same hardware")


def test_sat_forward_plot_without_train(capsys, tmp_path):
    plot = tmp_path / "ff.png"
    code, _, err = run(capsys, "run", "resnet9_cifar", "--sat", "--sparsity", "1:8", "--plot", str(plot), "--quiet")
    assert (code, err) == (0, "")
    assert is_png(plot)


def test_sat_dense_plot_without_sparsity(capsys, tmp_path):
    plot = tmp_path / "dense.png"
    code, _, err = run(capsys, "run", "resnet9_cifar", "--sat", "--train", "--plot", str(plot), "--quiet")
    assert (code, err) == (0, "")
    assert is_png(plot)


def test_sat_sparsity_sweep_writes_table_json_csv_and_plot(capsys, tmp_path):
    out_json, out_csv, plot = tmp_path / "s.json", tmp_path / "s.csv", tmp_path / "s.png"
    code, out, err = run(capsys, "run", "resnet18_cifar", "--sat", "--train", "--batch", "8", "--sparsity",
                         "2:4,1:4,2:8,1:8", "--json", str(out_json), "--csv", str(out_csv), "--plot", str(plot))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == ("resnet18_cifar (batch 8) training step on SAT: 32x32 fp16, 200 MHz, 45nm; "
                        "bdwp 2:4, 1:4, 2:8, 1:8")
    assert lines[1].split() == ["Sparsity", "FF", "Speed-up", "BP", "Speed-up", "WU", "Speed-up", "Speed-up", "Total",
                                "Cycles", "Stall", "Cycles", "Latency", "ms", "Energy", "mJ"]
    assert [line.split()[0] for line in lines[3:7]] == ["2:4", "1:4", "2:8", "1:8"]

    doc = json.loads(out_json.read_text())
    assert [run["summary"]["Sparsity"] for run in doc["runs"]] == ["2:4", "1:4", "2:8", "1:8"]
    net = bundled_network("resnet18_cifar")
    from dataclasses import replace

    expected = simulate_training(replace(net, batch=8), SatArray(), scheme="bdwp", sparsity="1:8")
    assert doc["runs"][3]["summary"]["Total Cycles"] == expected.cycles()
    assert doc["runs"][3]["summary"]["Speed-up"] == pytest.approx(expected.speedup())
    # The table's speed-up column is the JSON's, to its printed precision.
    assert float(lines[6].split()[4]) == pytest.approx(expected.speedup(), abs=5e-4)

    with open(out_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["Sparsity"] for r in rows} >= {"2:4", "1:4", "2:8", "1:8"}
    assert len(rows) == sum(len(run["passes"]) for run in doc["runs"])
    assert is_png(plot)


@pytest.mark.parametrize("sparsity, message", [
    ("2:4,,1:8", "hwsim: error: field 'sparsity' = '': expected 'N:M', e.g. '2:4'"),
    ("2:4,4:16", "hwsim: error: field 'sparsity' = '4:16': SAT's multiplexers take groups of at most 8"),
    ("2:4,8:8", "hwsim: error: field 'sparsity' = '8:8': N must be less than M for sparse training"),
])
def test_bad_sparsity_list_is_one_line_exit_2_and_writes_nothing(capsys, tmp_path, sparsity, message):
    files = [tmp_path / "s.json", tmp_path / "s.csv", tmp_path / "s.png"]
    code, out, err = run(capsys, "run", "resnet9_cifar", "--sat", "--train", "--sparsity", sparsity, "--json",
                         str(files[0]), "--csv", str(files[1]), "--plot", str(files[2]))
    assert (code, out, err) == (2, "", message + "\n")
    assert not any(f.exists() for f in files)


def test_sat_training_plot_draws_the_reports_numbers():
    net = bundled_network("resnet9_cifar")
    reports = [simulate_training(net, SatArray(), scheme="bdwp", sparsity=sp) for sp in ("2:4", "1:8")]
    fig = sat_training(reports)
    speed, energy = fig.axes
    assert speed.get_ylabel() == "speed-up over dense (x)" and energy.get_ylabel() == "energy per pass (uJ)"
    assert speed.get_xlabel() and energy.get_xlabel()
    passes = [Pass.FF, Pass.BP, Pass.WU, None]
    # bars are drawn report by report, pass by pass
    assert bar_heights(speed) == pytest.approx([r.speedup(p) for r in reports for p in passes])
    dense = reports[0].dense
    assert bar_heights(energy) == pytest.approx([r.energy_pj(p) / 1e6 for r in (dense, *reports) for p in passes])
    assert [t.get_text() for t in speed.get_legend().get_texts()] == ["2:4", "1:8"]

    fig = sat_training(reports[:1], passes=["ff"])
    assert bar_heights(fig.axes[0]) == pytest.approx([reports[0].speedup(Pass.FF)])


def test_sat_training_plot_rejects_what_it_cannot_draw():
    r9 = simulate_training(bundled_network("resnet9_cifar"), SatArray(), sparsity="2:4")
    vgg = simulate_training(bundled_network("vgg16_cifar"), SatArray(), sparsity="2:4")
    with pytest.raises(ValueError, match="one network"):
        sat_training([r9, vgg])
    with pytest.raises(ValueError, match="passes"):
        sat_training([r9], passes=["fw"])
    with pytest.raises(ValueError, match="no training reports"):
        sat_training([])


# ------------------------------------------------------------------------------------------------------------------
# hwsim rtl compare, with the co-simulation replaced
# ------------------------------------------------------------------------------------------------------------------


def record(m, n, k, rtl, stepped=None, engine=None, outputs=True) -> GemmRecord:
    stepped = rtl if stepped is None else stepped
    engine = stepped if engine is None else engine
    return GemmRecord(m=m, n=n, k=k, rows=4, cols=4, dataflow="ws", rtl_cycles=rtl, stepped_cycles=stepped,
                      engine_cycles=engine, outputs_match=outputs)


@pytest.fixture
def fake_cosim(monkeypatch):
    """Replace the Verilator run with given records; remember what it was asked."""
    calls = []

    def install(records):
        def run_gemms(arch, shapes, *, seed, progress=None, build_root=None):
            calls.append((arch, list(shapes), seed))
            progress("building the engine")  # drawn only on a terminal
            return records
        monkeypatch.setattr(rtl.cosim, "run_gemms", run_gemms)
        return calls
    return install


def test_rtl_compare_all_agree(capsys, tmp_path, fake_cosim):
    calls = fake_cosim([record(4, 4, 4, 14), record(9, 5, 7, 76)])
    out_json, out_csv, plot = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "r.png"
    code, out, err = run(capsys, "rtl", "compare", "--array", "4x4", "--dataflow", "os", "--gemms", "2", "--seed",
                         "7", "--json", str(out_json), "--csv", str(out_csv), "--plot", str(plot))
    assert (code, err) == (0, "")
    (arch, shapes, seed), = calls
    assert (arch.rows, arch.cols, arch.dataflow.value, seed) == (4, 4, "os", 7)
    assert shapes == default_shapes(arch, 2, seed=7)
    assert out.splitlines()[0] == "2 GEMMs on the generated 4x4 os engine under Verilator (int8 operands, seed 7)"
    assert out.splitlines()[-1].startswith("RTL cycles equal the stepped model's and the fast engine's")
    doc = json.loads(out_json.read_text())
    assert doc["agree"] is True and [g["rtl_cycles"] for g in doc["gemms"]] == [14, 76]
    with open(out_csv, newline="") as handle:
        assert [r["engine_cycles"] for r in csv.DictReader(handle)] == ["14", "76"]
    assert is_png(plot)


def test_status_line_draws_only_when_enabled(capsys):
    from hwsim.cli import _Status

    with _Status(enabled=False) as status:
        status("building systolic_4x4_ws with Verilator")
    assert capsys.readouterr().err == ""
    with _Status(enabled=True) as status:
        status("building systolic_4x4_ws with Verilator")
    err = capsys.readouterr().err
    assert err.startswith("\r\033[Kbuilding systolic_4x4_ws with Verilator ... 0 s") and err.endswith("\r\033[K")


def test_rtl_compare_mismatch_exits_1_and_says_which(capsys, tmp_path, fake_cosim):
    fake_cosim([record(4, 4, 4, 14), record(9, 5, 7, 77, stepped=76), record(2, 3, 3, 12, outputs=False),
                record(9, 9, 9, None, stepped=171)])
    out_json, plot = tmp_path / "r.json", tmp_path / "r.png"
    code, out, err = run(capsys, "rtl", "compare", "--array", "4x4", "--gemms", "4", "--json", str(out_json),
                         "--plot", str(plot), "--quiet")
    assert (code, out) == (1, "")
    assert err == ("hwsim: rtl compare: MISMATCH in 3 of 4 GEMMs: GEMM 1 (9x5x7: cycles RTL 77, stepped 76, engine "
                   "76), GEMM 2 (2x3x3: cycles agree; wrong product), GEMM 3 (9x9x9: cycles RTL did not finish, "
                   "stepped 171, engine 171)\n")
    doc = json.loads(out_json.read_text())
    assert doc["agree"] is False and [g["agrees"] for g in doc["gemms"]] == [True, False, False, False]
    assert is_png(plot)


def test_rtl_compare_toolchain_failure_exits_1(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise rtl.cosim.CosimError("Verilator build of systolic_4x4_ws failed: boom (see build.log)")
    monkeypatch.setattr(rtl.cosim, "run_gemms", broken)
    code, out, err = run(capsys, "rtl", "compare", "--array", "4x4")
    assert (code, out) == (1, "")
    assert err == "hwsim: rtl compare failed: Verilator build of systolic_4x4_ws failed: boom (see build.log)\n"


@pytest.mark.parametrize("argv, message", [
    (["--array", "4x4", "--gemms", "0"], "hwsim: error: field '--gemms' = 0: must be a whole number >= 1"),
    (["--array", "4x4", "--seed", "-1"], "hwsim: error: field '--seed' = -1: must be a whole number >= 0"),
    (["--array", "0x4"], "hwsim: error: field '--array' = '0x4': rows and columns must both be >= 1"),
    (["--array", "4x4", "--dataflow", "rs"], "hwsim: error: field '--dataflow' = 'rs': unknown dataflow (known: ws, "
     "os, is)"),
    (["--array", "4x4", "--gemms", "two"], "hwsim rtl compare: error: argument --gemms: invalid int value: 'two' "
     "(see 'hwsim rtl compare --help')"),
])
def test_rtl_compare_bad_input_exit_2_without_running(capsys, tmp_path, fake_cosim, argv, message):
    calls = fake_cosim([])
    plot = tmp_path / "r.png"
    try:
        code = main(["rtl", "compare", *argv, "--plot", str(plot)])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    assert (code, out, err) == (2, "", message + "\n")
    assert calls == [] and not plot.exists()


def test_rtl_vs_model_plot_draws_the_records_numbers():
    records = [record(4, 4, 4, 14), record(9, 5, 7, 77, stepped=76), record(2, 9, 5, None, stepped=72)]
    fig = rtl_vs_model(records)
    ax, = fig.axes
    assert ax.get_xlabel() == "GEMM (dataflow, M x N x K)" and ax.get_ylabel() == "cycles per GEMM"
    heights = bar_heights(ax)
    # series by series: RTL, stepped, engine; a GEMM the RTL did not finish has no RTL bar (NaN)
    assert heights[:2] == [14, 77] and np.isnan(heights[2]) and heights[3:] == [14, 76, 72, 14, 76, 72]
    labels = ax.get_xticklabels()
    assert [t.get_text() for t in labels] == ["ws\n4x4x4", "ws\n9x5x7 !", "ws\n2x9x5 !"]
    assert [t.get_color() for t in labels] == ["black", "red", "red"]
    assert ax.get_title() == "RTL vs model on 4x4: 1 of 3 GEMMs agree"
    # the same from to_dict() rows, as the CLI's JSON holds them
    assert bar_heights(rtl_vs_model([r.to_dict() for r in records]).axes[0])[3:] == heights[3:]
    with pytest.raises(ValueError):
        rtl_vs_model([])


# ------------------------------------------------------------------------------------------------------------------
# rtl.cosim without Verilator: shapes, limits, judging
# ------------------------------------------------------------------------------------------------------------------


def test_default_shapes_fit_the_default_design_and_are_reproducible():
    arch = SystolicArray(4, 8, dataflow="is")
    assert default_limit(arch) == 17
    shapes = default_shapes(arch, 9, seed=3)
    assert len(set(shapes)) == 9 and shapes[:5] == [(8, 8, 8), (4, 7, 3), (17, 9, 15), (2, 17, 9), (17, 17, 17)]
    assert shapes == default_shapes(arch, 9, seed=3) and shapes[5:] != default_shapes(arch, 9, seed=4)[5:]
    assert design_limits(arch, shapes) == {"max_m": 17, "max_n": 17, "max_k": 17}
    assert design_limits(arch, [(30, 2, 2)]) == {"max_m": 30, "max_n": 17, "max_k": 17}
    with pytest.raises(InputError, match="field 'gemms' = 0"):
        default_shapes(arch, 0)


def test_judge_compares_cycles_and_products():
    arch = SystolicArray(4, 4, dataflow="ws")
    cases = make_cases(arch, [(3, 2, 5), (4, 4, 4)], seed=11)
    right = [{"cycles": c.stepped_cycles, "outputs": c.product.reshape(-1).tolist()} for c in cases]
    assert all(r.agrees for r in judge(arch, cases, right))

    off_by_one = [dict(right[0], outputs=(cases[0].product.reshape(-1) + np.eye(1, 6, 3, dtype=np.int32)[0]).tolist()),
                  dict(right[1], cycles=right[1]["cycles"] + 1)]
    first, second = judge(arch, cases, off_by_one)
    assert (first.cycles_match, first.outputs_match, second.cycles_match, second.outputs_match) == (
        True, False, False, True)
    # a product of the wrong size is wrong, not an exception
    short = [dict(right[0], outputs=right[0]["outputs"][:-1]), right[1]]
    assert [r.outputs_match for r in judge(arch, cases, short)] == [False, True]
    # a session that stopped early: the rest has no measurement
    stopped = judge(arch, cases, [{"cycles": None, "outputs": None}])
    assert [(r.rtl_cycles, r.outputs_match) for r in stopped] == [(None, False), (None, False)]


@pytest.mark.parametrize("rtl, stepped, engine, outputs, agrees", [
    (14, 14, 14, True, True), (15, 14, 14, True, False), (14, 15, 14, True, False), (14, 14, 15, True, False),
    (14, 14, 14, False, False), (None, 14, 14, False, False),
])
def test_a_record_agrees_only_when_all_three_counts_and_the_product_do(rtl, stepped, engine, outputs, agrees):
    r = record(4, 4, 4, rtl, stepped=stepped, engine=engine, outputs=outputs)
    assert r.agrees is agrees and r.to_dict()["agrees"] is agrees
    assert r.cycles_match is (rtl == stepped == engine)


def test_make_cases_models_agree_with_numpy():
    arch = SystolicArray(2, 3, dataflow="os")
    for case in make_cases(arch, [(5, 1, 7), (1, 6, 2)], seed=0):
        np.testing.assert_array_equal(case.product, case.a.astype(np.int32) @ case.b.astype(np.int32))
        assert case.stepped_cycles == case.engine_cycles > 0


@pytest.mark.parametrize("shapes, seed, message", [
    ([], 0, "field 'shapes' = []: must be a non-empty list of (M, N, K)"),
    ([(2, 2, 2), (2, 0, 2)], 0, "field 'shapes[1]' = (2, 0, 2): must be three whole numbers >= 1 (M, N, K)"),
    ([(2, 2)], 0, "field 'shapes[0]' = (2, 2): must be three whole numbers >= 1 (M, N, K)"),
    ([(2, 2, 2)], -1, "field 'seed' = -1: must be a whole number >= 0"),
])
def test_run_gemms_rejects_bad_input_before_building(tmp_path, shapes, seed, message):
    with pytest.raises(InputError) as err:
        rtl.cosim.run_gemms(SystolicArray(2, 2), shapes, seed=seed, build_root=tmp_path)
    assert str(err.value) == message
    assert not (tmp_path / "build").exists()


def test_run_gemms_rejects_a_non_int8_array(tmp_path):
    with pytest.raises(InputError) as err:
        rtl.cosim.run_gemms(SystolicArray(2, 2, precision="fp16"), [(2, 2, 2)], seed=0, build_root=tmp_path)
    assert str(err.value) == "field 'precision' = 'fp16': the RTL engine multiplies int8 operands only"
