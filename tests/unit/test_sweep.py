"""Sweeps through the API: expansion and ids, strict sweep files, rows equal to per-point simulation, the streamed
results file, resuming, Pareto fronts, Dask."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from hwsim.api import SatArray, SystolicArray, load_workload, simulate, simulate_training, sweep
from hwsim.io.tech import load_technology
from hwsim.errors import InputError
from hwsim.io.sweep_json import load_sweep, sweep_from_dict, workload_ref
from hwsim.report.systolic import METRICS
from hwsim.sweep.evaluate import evaluate_chunk, network, sat_metrics
from hwsim.sweep.progress import Progress, wanted
from hwsim.sweep.result import pareto_rows
from hwsim.sweep.spec import SAT_METRICS, Task, WorkloadRef, make_point, point_id
from hwsim.sweep.store import ResultsFile, encode_rows
from hwsim.workload.training import Pass
from hwsim.workload.zoo import ZOO

from tests.conftest import REPO, TINY

EXAMPLE = REPO / "examples" / "sweeps" / "systolic_small.json"
MOBILENET = WorkloadRef("mobilenet_v1", "mobilenet_v1", "zoo:mobilenet_v1")


def doc(mode: str = "product", workloads=("mobilenet_v1",), **body) -> dict:
    return {"format": "hwsim-sweep", "version": 1, "workloads": list(workloads), "mode": mode, **body}


def arch_of(row: dict) -> SystolicArray:
    return SystolicArray(row["rows"], row["cols"], dataflow=row["dataflow"], precision=row["precision"],
                         ifmap_sram_kib=row["ifmap_sram_kib"], filter_sram_kib=row["filter_sram_kib"],
                         ofmap_sram_kib=row["ofmap_sram_kib"],
                         dram_bandwidth_bytes_per_cycle=row["dram_bandwidth_bytes_per_cycle"],
                         clock_mhz=row["clock_mhz"])


# -- expansion and ids ------------------------------------------------------------------------------------------


def test_product_is_the_cross_product_in_canonical_order_whatever_the_key_order():
    params = {"ifmap_sram_kib": [32, 64], "dataflow": ["ws", "os"], "array": ["8x8", "16x16"]}
    spec = sweep_from_dict(doc(parameters=params))
    assert [(p.array, p.dataflow, p.ifmap_sram_kib) for p in spec.points] == [
        ("8x8", "ws", 32.0), ("8x8", "ws", 64.0), ("8x8", "os", 32.0), ("8x8", "os", 64.0),
        ("16x16", "ws", 32.0), ("16x16", "ws", 64.0), ("16x16", "os", 32.0), ("16x16", "os", 64.0)]
    reordered = sweep_from_dict(doc(parameters=dict(reversed(list(params.items())))))
    assert reordered.points == spec.points
    assert [t.id for t in reordered.tasks()] == [t.id for t in spec.tasks()]
    assert len({t.id for t in spec.tasks()}) == 8


def test_list_mode_takes_each_point_with_the_models_defaults():
    spec = sweep_from_dict(doc("list", points=[{"array": "8x8"}, {"rows": 16, "cols": 4, "dataflow": "os",
                                                                  "tech": "7nm"}]))
    a, b = spec.points
    assert (a.rows, a.cols, a.dataflow, a.precision, a.ifmap_sram_kib, a.tech.label) == (8, 8, "ws", "int8", 64.0,
                                                                                          "45nm")
    assert (b.rows, b.cols, b.dataflow, b.tech.label) == (16, 4, "os", "7nm")
    assert not a.is_sat and a.sparsity is None


def test_sat_points_take_sats_assumed_array_and_dense_sparsity_is_dense_training():
    spec = sweep_from_dict(doc(parameters={"sparsity": ["dense", "2:8"], "scheme": ["bdwp", "forward"]}))
    # dense x bdwp and dense x forward are one point (nothing is pruned under either scheme)
    assert [(p.sparsity, p.scheme) for p in spec.points] == [("dense", "dense"), ("dense", "dense"),
                                                              ("2:8", "bdwp"), ("2:8", "forward")]
    assert spec.duplicates == 1 and len(spec.tasks()) == 3
    p = spec.points[2]
    assert p.sat_array().array == SatArray().array and p.dataflow is None and p.train is False
    assert "sparsity" in spec.columns() and "Speed-up" in spec.columns()


def test_ids_do_not_depend_on_spelling_defaults_or_the_process():
    plain = make_point({"array": "64x64"})
    spelled = make_point({"rows": 64, "cols": 64, "dataflow": "ws", "precision": "int8", "ifmap_sram_kib": 64,
                          "dram_bandwidth_bytes_per_cycle": 10, "tech": load_sweep_tech("45nm")})
    assert point_id(plain, MOBILENET) == point_id(spelled, MOBILENET)
    assert point_id(make_point({"array": "64x32"}), MOBILENET) != point_id(plain, MOBILENET)
    # A literal: the hash of the canonical parameters, the same in every run and every process.
    assert point_id(plain, MOBILENET) == "25980970acd2d5c7"
    code = ("from hwsim.sweep.spec import make_point, point_id, WorkloadRef;"
            "print(point_id(make_point({'array': '64x64'}), WorkloadRef('mobilenet_v1', 'mobilenet_v1', "
            "'zoo:mobilenet_v1')))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert other.stdout.strip() == "25980970acd2d5c7"


def load_sweep_tech(node: str):
    from hwsim.io.sweep_json import tech_ref

    return tech_ref(node)


def test_a_workload_file_is_identified_by_its_contents(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "net.json").write_text(json.dumps(TINY))
    (tmp_path / "b.json").write_text(json.dumps(TINY))
    moved = workload_ref("b.json", tmp_path)
    original = workload_ref("a/net.json", tmp_path)
    assert original.identity == moved.identity and original.label == "a/net.json"
    point = make_point({"array": "8x8"})
    assert point_id(point, original) == point_id(point, moved)
    edited = dict(TINY, batch=2)
    (tmp_path / "b.json").write_text(json.dumps(edited))
    assert point_id(point, workload_ref("b.json", tmp_path)) != point_id(point, original)


# -- strict sweep files -----------------------------------------------------------------------------------------

BAD = [
    (doc(paramters={}), "field 'paramters': unknown key (known: format, version, name, description, workloads, "
                        "mode, parameters, points)"),
    (doc(parameters={"array": "8x8", "arary": "8x8"}),
     "field 'parameters.arary': unknown parameter (known: array, rows, cols, dataflow, precision, ifmap_sram_kib, "
     "filter_sram_kib, ofmap_sram_kib, dram_bandwidth_bytes_per_cycle, clock_mhz, tech, batch, sparsity, scheme, "
     "train)"),
    (doc(parameters={"array": "8x8", "dataflow": ["ws", "xs"]}),
     "field 'parameters.dataflow[1]' = 'xs': unknown dataflow (known: ws, os, is)"),
    (doc(parameters={"array": ["8x8", "0x8"]}),
     "field 'parameters.array[1]' = '0x8': rows and columns must both be >= 1"),
    (doc(parameters={"array": 64}), "field 'parameters.array' = 64: expected ROWSxCOLS, e.g. \"64x64\""),
    (doc(parameters={"array": "8x8", "ifmap_sram_kib": -1}), "field 'parameters.ifmap_sram_kib' = -1: must be a "
                                                             "number > 0"),
    (doc(parameters={"array": "8x8", "clock_mhz": True}), "field 'parameters.clock_mhz' = True: must be a number > 0"),
    (doc(parameters={"array": []}), "field 'parameters.array' = []: must not be empty"),
    (doc(mode="grid", parameters={"array": "8x8"}), "field 'mode' = 'grid': must be one of product, list"),
    ({**doc(parameters={"array": "8x8"}), "format": "hwsim-workload"},
     "field 'format' = 'hwsim-workload': expected 'hwsim-sweep'"),
    ({**doc(parameters={"array": "8x8"}), "version": 2},
     "field 'version' = 2: unsupported version; this hwsim reads version 1"),
    (doc(parameters={"array": "8x8", "tech": "3nm"}),
     "field 'parameters.tech' = '3nm': expected a bundled node (45nm, 32nm, 28nm, 22nm, 16nm, 14nm, 10nm, 7nm) or a "
     ".json table"),
    (doc(parameters={"sparsity": "5:4"}), "field 'parameters.sparsity' = '5:4': N must not exceed M"),
    (doc(parameters={"sparsity": "half"}), "field 'parameters.sparsity' = 'half': expected \"dense\" or N:M, "
                                           "e.g. \"2:8\""),
    (doc(parameters={"array": "8x8", "scheme": "bdwp"}),
     "field 'parameters.scheme': needs 'sparsity' (sparse and training points run on SAT)"),
    (doc(parameters={"sparsity": "2:8", "dataflow": "ws"}),
     "field 'parameters.dataflow': SAT points (those with 'sparsity') choose ws or os per GEMM themselves; leave "
     "dataflow out"),
    (doc(parameters={"sparsity": "2:8", "train": "yes"}), "field 'parameters.train' = 'yes': must be true or false"),
    (doc(parameters={"dataflow": "ws"}),
     "field 'parameters.array': is required (e.g. \"64x64\") unless the point runs on SAT (has 'sparsity')"),
    (doc(parameters={"array": "8x8", "rows": 8, "cols": 8}),
     "field 'parameters.rows': give either 'array' or 'rows' and 'cols'"),
    (doc(parameters={"rows": 8}), "field 'parameters.rows': needs 'cols' too"),
    (doc(parameters={"array": "8x8", "batch": 0}), "field 'parameters.batch' = 0: must be a whole number >= 1"),
    (doc("list", points=[{"array": "8x8"}, {"array": "8x8", "precision": "int4"}]),
     "field 'points[1].precision' = 'int4': unknown precision (known: int8, int16, int32, fp16, bf16, fp32)"),
    (doc("list", points=[{"array": ["8x8"]}]),
     "field 'points[0].array' = ['8x8']: one value per point in mode 'list' (lists of values are for mode "
     "'product')"),
    (doc("list", parameters={"array": "8x8"}), "field 'parameters': belongs to mode 'product'; a list takes 'points'"),
    (doc(workloads=[], parameters={"array": "8x8"}),
     "field 'workloads' = []: expected a non-empty list of bundled network names or workload files"),
    (doc(workloads=["mobilenet_v1", "mobilenet_v1"], parameters={"array": "8x8"}),
     "field 'workloads[1]' = 'mobilenet_v1': is listed twice"),
]


@pytest.mark.parametrize("document, message", BAD, ids=[m.split(":")[0] + f" {i}" for i, (_, m) in enumerate(BAD)])
def test_a_bad_sweep_file_is_one_line_naming_the_field(write_doc, document, message):
    path = write_doc(document, "sweep.json")
    with pytest.raises(InputError) as err:
        load_sweep(path)
    assert str(err.value) == f"{path}: {message}"


def test_an_unknown_workload_lists_the_bundled_ones(write_doc):
    path = write_doc(doc(workloads=["resnet51"], parameters={"array": "8x8"}), "sweep.json")
    with pytest.raises(InputError) as err:
        load_sweep(path)
    assert str(err.value) == (f"{path}: field 'workloads[0]' = 'resnet51': is neither a bundled network "
                              f"({', '.join(sorted(ZOO))}) nor a file")


def test_malformed_json_and_missing_header_are_errors_too(write_doc):
    path = write_doc('{"format": "hwsim-sweep",', "sweep.json")
    with pytest.raises(InputError, match=r"sweep.json: malformed JSON at line 1 column 26"):
        load_sweep(path)
    no_version = write_doc({k: v for k, v in doc(parameters={"array": "8x8"}).items() if k != "version"}, "v.json")
    with pytest.raises(InputError, match=r"field 'version' = None: unsupported version"):
        load_sweep(no_version)
    # A dict written in Python may leave format and version out.
    assert len(sweep_from_dict({"workloads": ["mobilenet_v1"], "mode": "list", "points": [{"array": "8x8"}]}).points)


def test_every_example_sweep_loads():
    examples = sorted((REPO / "examples" / "sweeps").glob("*.json"))
    assert EXAMPLE in examples
    for path in examples:
        assert load_sweep(path).tasks()


# -- rows ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_result(tmp_path_factory):
    """The example sweep on two processes, streamed to a file."""
    out = tmp_path_factory.mktemp("sweep") / "rows.csv"
    return sweep(EXAMPLE, out, jobs=2, chunk_size=4, progress=False)


def test_rows_equal_per_point_simulate(example_result):
    result = example_result
    assert result.computed == len(result.rows) == 36 and result.reused == 0
    assert result.runner == "2 local processes"
    assert [r["workload"] for r in result.rows] == ["mobilenet_v1"] * 18 + ["resnet18_cifar"] * 18
    networks = {w: load_workload(w) for w in result.workloads}
    for row in result.rows:
        try:
            expected = simulate(networks[row["workload"]], arch_of(row), tech=row["tech"]).metrics()
        except InputError as err:
            assert row["Error"] == str(err) and all(row[m] is None for m in METRICS)
            continue
        assert row["Error"] is None
        assert {m: row[m] for m in METRICS} == {m: v if isinstance(v, int) else pytest.approx(v, rel=1e-12)
                                                for m, v in expected.items()}  # counts exact, energies to rounding
    # the 4 KiB filter SRAM cannot hold a 64x64 weight-stationary tile: those points are error rows, not a crash
    errored = {(r["workload"], r["array"], r["dataflow"], r["filter_sram_kib"]) for r in result.errors}
    assert errored == {(w, "64x64", "ws", 4.0) for w in ("mobilenet_v1", "resnet18_cifar")}


def test_the_streamed_file_holds_the_same_rows(example_result):
    with ResultsFile(example_result.path, example_result.columns, resume=True) as stored:
        assert stored.rows == {r["id"]: r for r in example_result.rows}
        assert not stored.dropped_partial


def test_sat_rows_are_the_training_reports_numbers(write_doc):
    path = write_doc(TINY, "tiny.json")
    spec = doc(workloads=[str(path)], parameters={"sparsity": ["dense", "2:4"], "train": [False, True],
                                                  "batch": 4})
    result = sweep(spec, jobs=1, progress=False)
    net = replace(load_workload(path), batch=4)
    assert len(result.rows) == 4
    for row in result.rows:
        report = simulate_training(net, SatArray(), scheme=row["scheme"],
                                   sparsity=None if row["sparsity"] == "dense" else row["sparsity"])
        assert {k: row[k] for k in METRICS + SAT_METRICS} == sat_metrics(report, row["train"])
        which = None if row["train"] else Pass.FF
        assert row["Total Cycles"] == report.cycles(which)
        assert row["Energy pJ"] == pytest.approx(report.energy_pj(which), rel=1e-12)
        assert row["Speed-up"] == pytest.approx(report.speedup(which), rel=1e-12)
        assert row["batch"] == 4 and row["Error"] is None
        assert row["Stall Cycles"] == (report.stall_cycles() if row["train"] else report.stalls()["ff"])
        assert row["Latency us"] == row["Total Cycles"] / 200  # SAT's assumed 200 MHz
    sparse = [r for r in result.rows if r["sparsity"] == "2:4"]
    assert all(1 < r["Speed-up"] for r in sparse)


def test_files_are_relative_to_the_sweep_file_and_technologies_are_priced_per_point(tmp_path):
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "tiny.json").write_text(json.dumps(TINY))
    table = (REPO / "hwsim" / "cost" / "tables" / "45nm.json").read_text()
    (tmp_path / "my_45nm.json").write_text(table)
    spec = tmp_path / "sweep.json"
    spec.write_text(json.dumps(doc(workloads=["nets/tiny.json"],
                                   parameters={"array": "8x8", "tech": ["45nm", "my_45nm.json", "7nm"]})))
    bundled, own, small = sweep(spec, jobs=1, progress=False).rows
    assert (bundled["workload"], own["tech"], small["tech"]) == ("nets/tiny.json", "my_45nm.json", "7nm")
    assert len({bundled["id"], own["id"], small["id"]}) == 3
    net = load_workload(tmp_path / "nets" / "tiny.json")
    for row, tech in ((own, load_technology(tmp_path / "my_45nm.json")), (small, load_technology("7nm"))):
        # The sweep runs the vectorised engine: counts equal, energies summed in another order (rel 1e-12).
        assert {m: row[m] for m in METRICS} == pytest.approx(simulate(net, SystolicArray(8, 8), tech=tech).metrics(),
                                                             rel=1e-12)
    assert own["Energy pJ"] == bundled["Energy pJ"] and small["Energy pJ"] < bundled["Energy pJ"]


def test_a_design_that_cannot_run_is_an_error_row_with_the_models_message():
    result = sweep(doc(parameters={"array": "64x64", "filter_sram_kib": [4, 64]}), jobs=1, progress=False)
    bad, good = result.rows
    with pytest.raises(InputError) as err:
        simulate(load_workload("mobilenet_v1"), SystolicArray(64, 64, filter_sram_kib=4.0))
    assert bad["Error"] == str(err.value) and "\n" not in bad["Error"]
    assert bad["Total Cycles"] is None and good["Error"] is None and good["Total Cycles"] > 0
    assert result.errors == (bad,)


def test_a_worker_loads_a_workload_once_not_per_point(write_doc):
    path = write_doc(TINY, "tiny.json")
    ref = workload_ref(str(path))
    tasks = [Task(point_id(p, ref), ref, p) for p in (make_point({"array": a}) for a in ("4x4", "8x8", "16x16"))]
    network.cache_clear()
    tech = load_technology("45nm")
    first = evaluate_chunk(ref, tech, tasks[:2])
    second = evaluate_chunk(ref, tech, tasks[2:])
    info = network.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    assert [r["id"] for r in first + second] == [t.id for t in tasks]


# -- the results file and resuming --------------------------------------------------------------------------------

COLUMNS = ("id", "workload", "rows", "Energy pJ", "Error")


def test_results_file_is_never_overwritten(tmp_path):
    out = tmp_path / "r.csv"
    with ResultsFile(out, COLUMNS, resume=False) as new:
        new.append([{"id": "a", "workload": "w", "rows": 8, "Energy pJ": 0.1}])
    with pytest.raises(InputError) as err:
        ResultsFile(out, COLUMNS, resume=False)
    assert str(err.value) == (f"field 'out' = '{out}': already exists; resume it (--resume, resume=True) or choose "
                              "another file: results are never overwritten")
    assert out.read_text() == "id,workload,rows,Energy pJ,Error\na,w,8,0.1,\n"


def test_resuming_drops_a_partial_last_line_and_keeps_whole_rows(tmp_path):
    out = tmp_path / "r.csv"
    rows = [{"id": "a", "workload": "w", "rows": 8, "Energy pJ": 1 / 3}, {"id": "b", "workload": "w", "rows": 16,
                                                                          "Energy pJ": 2.5, "Error": "x, \"y\""}]
    text = encode_rows([dict(zip(COLUMNS, COLUMNS))] + rows, COLUMNS)
    out.write_text(text + "c,w,3")  # a row cut off by a kill
    with ResultsFile(out, COLUMNS, resume=True) as stored:
        assert stored.dropped_partial
        assert stored.rows == {"a": {**rows[0], "Error": None}, "b": rows[1]}  # floats read back exactly
        stored.append([{"id": "c", "workload": "w", "rows": 32, "Energy pJ": 3.0}])
    assert out.read_text() == text + "c,w,32,3.0,\n"


def test_resuming_another_sweeps_file_is_an_error(tmp_path):
    out = tmp_path / "r.csv"
    out.write_text("id,workload,cols,Energy pJ,Error\n")
    with pytest.raises(InputError) as err:
        ResultsFile(out, COLUMNS, resume=True)
    assert str(err.value) == (f"field 'out' = '{out}': holds other results: its columns differ from this sweep's "
                              "(column 3 is 'cols', expected 'rows')")


def test_a_sweep_that_fails_before_its_first_row_leaves_no_file(tmp_path):
    out = tmp_path / "r.csv"
    with ResultsFile(out, COLUMNS, resume=False) as new:
        new.discard_if_unused()
    assert not out.exists()
    with ResultsFile(out, COLUMNS, resume=False) as new:
        new.append([{"id": "a", "workload": "w"}])
        new.discard_if_unused()
    with ResultsFile(out, COLUMNS, resume=True) as old:  # not this call's file: kept
        old.discard_if_unused()
    assert out.read_text() == "id,workload,rows,Energy pJ,Error\na,w,,,\n"


def test_a_file_being_written_is_locked(tmp_path):
    out = tmp_path / "r.csv"
    with ResultsFile(out, COLUMNS, resume=False):
        with pytest.raises(InputError, match="is being written by another sweep"):
            ResultsFile(out, COLUMNS, resume=True)


def test_only_csv_results(tmp_path):
    with pytest.raises(InputError, match=r"field 'out' = '.*r.parquet': results are written as CSV"):
        ResultsFile(tmp_path / "r.parquet", COLUMNS, resume=False)


def test_resume_computes_only_the_missing_points(example_result, tmp_path):
    lines = example_result.path.read_text().splitlines(keepends=True)
    out = tmp_path / "partial.csv"
    out.write_text("".join(lines[:11]) + lines[11][:20])  # 10 whole rows and part of one
    resumed = sweep(EXAMPLE, out, resume=True, jobs=2, progress=False)
    assert (resumed.reused, resumed.computed) == (10, 26)
    final = out.read_text().splitlines(keepends=True)
    assert final[:11] == lines[:11]  # what was written stays as it was
    ids = [line.split(",")[0] for line in final[1:]]
    assert len(ids) == len(set(ids)) == 36
    assert set(final) == set(lines)
    assert resumed.rows == example_result.rows
    again = sweep(EXAMPLE, out, resume=True, progress=False)
    assert (again.reused, again.computed) == (36, 0)


def test_arguments_are_checked():
    for kwargs, message in [
        ({"jobs": 0}, "field 'jobs' = 0: must be a whole number >= 1"),
        ({"scheduler": "spark"}, "field 'scheduler' = 'spark': must be one of local, dask"),
        ({"dask_workers": 2}, "field 'dask_workers' = 2: needs scheduler 'dask'"),
        ({"resume": True}, "field 'resume' = True: needs a results file to resume"),
        ({"scheduler": "dask", "jobs": 2},
         "field 'jobs' = 2: is for the local scheduler; a Dask LocalCluster takes dask_workers"),
    ]:
        with pytest.raises(InputError) as err:
            sweep(EXAMPLE, **kwargs)
        assert str(err.value) == message


# -- Pareto fronts and plots --------------------------------------------------------------------------------------


def _dominated(p: np.ndarray, others: np.ndarray) -> bool:
    return bool(np.any(np.all(others <= p, axis=1) & np.any(others < p, axis=1)))


def test_pareto_front_per_workload_against_brute_force(example_result):
    for workload in example_result.workloads:
        rows = [r for r in example_result.for_workload(workload) if r["Error"] is None]
        v = np.array([[r["Latency us"], r["Energy pJ"], r["Area um2"], -r["Overall Util %"]] for r in rows])
        expected = {r["id"] for r, p in zip(rows, v) if not _dominated(p, v)}
        front = example_result.pareto(workload)
        assert {r["id"] for r in front} == expected and 1 < len(front) < len(rows)
        assert [r["Latency us"] for r in front] == sorted(r["Latency us"] for r in front)
    assert len(example_result.pareto()) == sum(len(example_result.pareto(w)) for w in example_result.workloads)
    assert pareto_rows([{"id": "x", "Error": "no"}]) == []


def test_pareto_plot_has_labelled_axes(example_result, tmp_path):
    fig = example_result.plot_pareto(tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 10_000
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert [ax.get_xlabel() for ax in panels] == ["latency (µs)"] * 2
    assert [ax.get_ylabel() for ax in panels] == ["energy per run (µJ)"] * 2
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"] == ["area (mm$^2$)"] * 2


# -- progress -----------------------------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_only_and_never_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert wanted(None, _Terminal()) and not wanted(None, io.StringIO())
    assert not wanted(False, _Terminal()) and wanted(True, io.StringIO())
    monkeypatch.setenv("CI", "true")
    assert not wanted(None, _Terminal())
    stream = _Terminal()
    bar = Progress(36, 10, enabled=True, stream=stream)
    bar.advance(26)
    bar.close()
    assert "36/36 rows 100%" in stream.getvalue() and "[" + "#" * 30 + "]" in stream.getvalue()
    quiet = io.StringIO()
    Progress(36, enabled=False, stream=quiet).close()
    assert quiet.getvalue() == ""


# -- Dask -----------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_rows(example_result):
    result = sweep(EXAMPLE, scheduler="dask", dask_workers=2, chunk_size=6, progress=False)
    assert result.runner == "Dask LocalCluster of 2 workers"
    assert result.rows == example_result.rows
