"""``hwsim sweep``: the summary and Pareto fronts it prints and writes, its one-line errors, and what happens when
a running sweep is killed (SIGKILL) or interrupted (Ctrl-C, SIGINT) and then resumed."""

from __future__ import annotations

import csv
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from hwsim.api import sweep
from hwsim.cli import main

from tests.conftest import REPO

EXAMPLE = str(REPO / "examples" / "sweeps" / "systolic_small.json")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_sweep_prints_counts_errors_and_each_workloads_pareto_front(capsys, tmp_path):
    out = tmp_path / "rows.csv"
    code, stdout, stderr = run(capsys, "sweep", EXAMPLE, "--out", str(out), "--jobs", "2", "--json",
                               str(tmp_path / "p.json"), "--csv", str(tmp_path / "p.csv"), "--plot",
                               str(tmp_path / "p.png"))
    assert (code, stderr) == (0, "")
    lines = stdout.splitlines()
    assert lines[0] == f"sweep 'systolic_small' ({EXAMPLE}): 18 design points x 2 workloads = 36 rows"
    assert lines[1].startswith("computed 36 rows in ") and lines[1].endswith(f"(2 local processes); streamed to {out}")
    assert lines[2].startswith("2 of 36 rows errored (a layer cannot run on that design; the Error column says why)")
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 36
    # The front printed for each workload is the non-dominated set of that workload's rows in the results file.
    document = json.loads((tmp_path / "p.json").read_text())
    assert (document["rows"], document["computed"], document["reused"], document["errors"]) == (36, 36, 0, 2)
    for workload in ("mobilenet_v1", "resnet18_cifar"):
        mine = [r for r in rows if r["workload"] == workload and not r["Error"]]
        values = {r["id"]: (float(r["Latency us"]), float(r["Energy pJ"]), float(r["Area um2"]),
                            -float(r["Overall Util %"])) for r in mine}
        front = {i for i, v in values.items()
                 if not any(all(a <= b for a, b in zip(w, v)) and w != v for w in values.values())}
        start = lines.index(f"{workload}: Pareto front of {len(front)} of 17 designs (latency, energy, area "
                            "minimised; utilisation maximised)")
        assert lines[start + 1].split() == ["id", "array", "dataflow", "filter_sram_kib", "Latency", "us", "Energy",
                                            "uJ", "Area", "mm2", "Overall", "Util", "%"]
        printed = {line.split()[0] for line in lines[start + 3: start + 3 + len(front)]}
        assert printed == front
        assert {r["id"] for r in document["pareto"][workload]} == front
    assert {r["id"] for r in csv.DictReader(open(tmp_path / "p.csv"))} == {r["id"] for rs in
                                                                            document["pareto"].values() for r in rs}
    assert (tmp_path / "p.png").stat().st_size > 10_000


def test_an_existing_results_file_is_never_overwritten(capsys, tmp_path):
    out = tmp_path / "rows.csv"
    assert run(capsys, "sweep", EXAMPLE, "--out", str(out), "--quiet")[0] == 0
    before = out.read_bytes()
    code, stdout, stderr = run(capsys, "sweep", EXAMPLE, "--out", str(out))
    assert (code, stdout) == (2, "")
    assert stderr == (f"hwsim: error: field '--out' = '{out}': already exists; resume it (--resume, resume=True) or "
                      "choose another file: results are never overwritten\n")
    assert out.read_bytes() == before
    code, stdout, _ = run(capsys, "sweep", EXAMPLE, "--out", str(out), "--resume")
    assert code == 0 and "computed 0 rows in " in stdout and f"36 were already in {out}" in stdout
    assert out.read_bytes() == before


@pytest.mark.parametrize("argv, message", [
    (["--jobs", "0"], "field '--jobs' = 0: must be a whole number >= 1"),
    (["--dask-workers", "2"], "field '--dask-workers' = 2: needs scheduler 'dask'"),
    (["--resume"], "field '--resume' = True: needs a results file to resume"),
    (["--out", "r.parquet"], "field '--out' = 'r.parquet': results are written as CSV: give a .csv file (Parquet "
                             "would need pyarrow, which hwsim does not depend on)"),
])
def test_bad_flags_are_one_line(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run(capsys, "sweep", EXAMPLE, *argv)
    assert (code, stdout, stderr) == (2, "", f"hwsim: error: {message}\n")


def test_a_bad_sweep_file_exits_2_without_a_traceback(tmp_path):
    spec = tmp_path / "bad.json"
    spec.write_text(json.dumps({"format": "hwsim-sweep", "version": 1, "workloads": ["mobilenet_v1"],
                                "mode": "product", "parameters": {"array": ["8x8"], "dataflow": ["ws", "rs"]}}))
    done = subprocess.run([sys.executable, "-m", "hwsim", "sweep", str(spec), "--out", str(tmp_path / "r.csv")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"hwsim: error: {spec}: field 'parameters.dataflow[1]' = 'rs': unknown dataflow (known: "
                           "ws, os, is)\n")
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.slow
def test_dask_scheduler_at_an_address_gives_the_local_rows(capsys, tmp_path):
    import logging

    from distributed import LocalCluster

    local = sweep(EXAMPLE, jobs=1, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="768MiB",
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        out = tmp_path / "dask.csv"
        code, stdout, stderr = run(capsys, "sweep", EXAMPLE, "--out", str(out), "--scheduler", "dask",
                                   "--dask-address", cluster.scheduler_address, "--chunk-size", "5")
    assert (code, stderr) == (0, "")
    assert f"(Dask scheduler {cluster.scheduler_address})" in stdout.splitlines()[1]
    with open(out) as handle:
        rows = {r["id"]: r for r in csv.DictReader(handle)}
    expected = sweep(EXAMPLE, tmp_path / "local.csv", jobs=1, progress=False)
    with open(expected.path) as handle:
        assert rows == {r["id"]: r for r in csv.DictReader(handle)}
    assert len(rows) == len(local.rows) == 36


# -- killing and interrupting a running sweep -------------------------------------------------------------------

KILL_SWEEP = {
    "format": "hwsim-sweep", "version": 1, "name": "kill", "workloads": ["resnet50"], "mode": "product",
    "parameters": {"array": ["8x8", "8x16", "16x8", "16x16", "16x32", "32x16", "32x32", "32x64", "64x32", "64x64"],
                   "dataflow": ["ws", "os", "is"], "ifmap_sram_kib": [32, 64, 128, 256],
                   "filter_sram_kib": [64, 128, 256]},
}
KILL_ROWS = 360


@pytest.fixture(scope="module")
def kill_sweep(tmp_path_factory):
    """The sweep file, and the rows of a clean, uninterrupted run of it (as lines of its results file)."""
    folder = tmp_path_factory.mktemp("kill")
    spec = folder / "kill.json"
    spec.write_text(json.dumps(KILL_SWEEP))
    clean = sweep(spec, folder / "clean.csv", jobs=2, progress=False)
    assert clean.computed == KILL_ROWS
    return spec, (folder / "clean.csv").read_text().splitlines(keepends=True)


# The same command with a thread running, as in a notebook kernel: workers then come from a fork server.
WITH_A_THREAD = ("import sys, threading; threading.Thread(target=threading.Event().wait, daemon=True).start(); "
                 "from hwsim.cli import main; sys.exit(main(sys.argv[1:]))")


def _start(spec: Path, out: Path, marker: str, threaded: bool = False) -> subprocess.Popen:
    command = [sys.executable] + (["-c", WITH_A_THREAD] if threaded else ["-m", "hwsim"])
    return subprocess.Popen(command + ["sweep", str(spec), "--out", str(out), "--jobs", "2", "--chunk-size", "4"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HWSIM_SWEEP_TEST": marker})


def _wait_for_rows(process: subprocess.Popen, out: Path, rows: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the sweep finished before it could be stopped: make KILL_SWEEP bigger"
        if out.exists() and out.read_bytes().count(b"\n") > rows:
            return
        time.sleep(0.01)
    raise AssertionError(f"no {rows} rows in {out} after 120 s")


def _processes_marked(marker: str) -> list[int]:
    """Live processes carrying ``marker`` in their environment: the sweep and every worker it started."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
                state = (entry / "stat").read_text().split()[2]
            except OSError:
                continue
            if f"HWSIM_SWEEP_TEST={marker}".encode() in environ.split(b"\0") and state != "Z":
                found.append(int(entry.name))
    return found


def _check_complete_and_correct(out: Path, clean: list[str]) -> list[str]:
    lines = out.read_text().splitlines(keepends=True)
    assert lines[0] == clean[0] and all(line.endswith("\n") for line in lines)  # no partial row
    assert set(lines[1:]) <= set(clean[1:])  # every row whole and equal to the clean run's
    return lines


def _resume(spec: Path, out: Path, done: int, clean: list[str], before: list[str]) -> None:
    resumed = subprocess.run([sys.executable, "-m", "hwsim", "sweep", str(spec), "--out", str(out), "--resume",
                              "--jobs", "2"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"computed {KILL_ROWS - done} rows in " in resumed.stdout  # finished points were not recomputed
    assert f"{done} were already in {out}" in resumed.stdout
    final = out.read_text().splitlines(keepends=True)
    assert final[:len(before)] == before  # appended after, nothing rewritten
    ids = [line.split(",", 1)[0] for line in final[1:]]
    assert len(ids) == len(set(ids)) == KILL_ROWS
    assert set(final) == set(clean)


@pytest.mark.slow
@pytest.mark.parametrize("threaded", [False, True], ids=["forked workers", "fork-server workers"])
def test_a_killed_sweep_loses_nothing_written_and_resumes_without_recomputing(kill_sweep, tmp_path, threaded):
    spec, clean = kill_sweep
    out = tmp_path / "rows.csv"
    marker = uuid.uuid4().hex
    process = _start(spec, out, marker, threaded)
    _wait_for_rows(process, out, 20)
    process.kill()  # SIGKILL: no handler runs, no file is closed
    process.wait(timeout=30)
    process.stdout.close()
    process.stderr.close()
    with open(out, "rb") as handle:  # the lock died with the sweep (no worker holds a copy of it)
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    before = _check_complete_and_correct(out, clean)
    done = len(before) - 1
    assert 20 <= done < KILL_ROWS
    deadline = time.monotonic() + 15
    while _processes_marked(marker) and time.monotonic() < deadline:  # workers notice their parent is gone
        time.sleep(0.1)
    assert _processes_marked(marker) == []
    _resume(spec, out, done, clean, before)


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_a_message_and_resumes(kill_sweep, tmp_path):
    spec, clean = kill_sweep
    out = tmp_path / "rows.csv"
    process = _start(spec, out, uuid.uuid4().hex)
    _wait_for_rows(process, out, 20)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and stdout == ""
    before = _check_complete_and_correct(out, clean)
    done = len(before) - 1
    assert 20 <= done < KILL_ROWS
    assert stderr == (f"hwsim: sweep interrupted: {done} of {KILL_ROWS} rows are in {out}; resuming (--resume, "
                      "resume=True) computes the rest\n")  # one line, no traceback; every row it counts was kept
    _resume(spec, out, done, clean, before)


def test_the_sat_example_sweeps_sparsity_on_training_steps(capsys, tmp_path):
    spec = str(REPO / "examples" / "sweeps" / "sat_sparsity.json")
    code, stdout, stderr = run(capsys, "sweep", spec, "--out", str(tmp_path / "sat.csv"), "--jobs", "2")
    assert (code, stderr) == (0, "")
    assert stdout.splitlines()[0] == (f"sweep 'sat_sparsity' ({spec}): 18 design points x 1 workload = 18 rows "
                                      "(2 duplicate points evaluated once)")
    with open(tmp_path / "sat.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 18 and not any(r["Error"] for r in rows)
    assert all(r["train"] == "True" and r["batch"] == "64" and r["dataflow"] == "" for r in rows)
    dense = [r for r in rows if r["sparsity"] == "dense"]
    assert len(dense) == 2 and all(float(r["Speed-up"]) == 1.0 for r in dense)
    for r in rows:
        n, m = (1, 1) if r["sparsity"] == "dense" else map(int, r["sparsity"].split(":"))
        assert 1.0 <= float(r["Speed-up"]) <= m / n  # never slower than dense, never past the ideal
