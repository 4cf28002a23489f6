"""Evaluating sweep points: one chunk of points sharing a workload and a technology at a time.

This is the code that runs in worker processes (a local process pool or Dask workers). A worker loads each
workload once (:func:`network`, cached per process), not once per point.

A row is the point's parameters, the whole-network metrics and an ``Error`` column. A systolic point's metrics are
:meth:`hwsim.report.systolic.Report.metrics`. A SAT point's (:func:`sat_metrics`) are the same quantities where
the training model has them, taken from :class:`hwsim.report.training.TrainingReport` over the passes the point runs
(the forward pass, or with ``train`` the whole step).
"""

from __future__ import annotations

import numbers
import os
import signal
import threading
import time
from dataclasses import replace
from functools import lru_cache
from typing import Any, Sequence

from hwsim.cost.tech import Technology
from hwsim.io.tech import load_technology
from hwsim.errors import InputError
from hwsim.arch.systolic import SystolicArray
from hwsim.compose import simulate, simulate_batch, simulate_training
from hwsim.report.systolic import METRICS
from hwsim.report.training import TrainingReport
from hwsim.sweep.spec import ERROR_COLUMN, SAT_METRICS, Point, Task, WorkloadRef
from hwsim.workload.network import Network
from hwsim.workload.training import Pass


@lru_cache(maxsize=32)
def network(source: str, identity: str, batch: int | None = None) -> Network:
    """The workload, loaded once per process (``identity`` is part of the key so an edited file is reloaded)."""
    from hwsim.io.load import load_workload

    loaded = load_workload(source)
    return loaded if batch is None or batch == loaded.batch else replace(loaded, batch=batch)


@lru_cache(maxsize=32)
def technology(source: str, identity: str) -> Technology:
    """A technology table, loaded once per process (reloaded when its file's ``identity`` changes)."""
    return load_technology(source)


def evaluate_chunk(workload: WorkloadRef, tech: Technology, tasks: Sequence[Task],
                   loaded: Network | None = None) -> list[dict[str, Any]]:
    """The rows of ``tasks``, points that share ``workload``, ``tech`` and batch.

    Parameters
    ----------
    workload
        The workload every task runs.
    tech
        The technology every task is priced in.
    tasks
        Points with their ids.
    loaded
        The workload already loaded (a Dask worker gets it scattered); otherwise it is loaded here once per
        process.

    A point on which a layer cannot run (an :class:`~hwsim.errors.InputError`, e.g. an SRAM too small for one
    fold's tile) gives a row whose ``Error`` says why; anything else is a bug and raises.
    """
    rows: list[dict[str, Any] | None] = [None] * len(tasks)
    rebatched: dict[int | None, Network] = {}
    systolic: dict[int, tuple[Network, list[tuple[int, Task, SystolicArray]]]] = {}
    for i, task in enumerate(tasks):
        batch = task.point.batch
        if loaded is None:
            net = network(workload.source, workload.identity, batch)
        elif batch is None or batch == loaded.batch:
            net = loaded
        else:
            net = rebatched.setdefault(batch, replace(loaded, batch=batch))
        if task.point.is_sat:
            rows[i] = evaluate_task(net, tech, task)
            continue
        try:
            arch = task.point.systolic_array()
        except InputError:
            rows[i] = evaluate_task(net, tech, task)  # the error row, with simulate's message
            continue
        systolic.setdefault(id(net), (net, []))[1].append((i, task, arch))
    # Systolic points of one network go through the vectorised engine together: the same numbers as
    # simulate(...).metrics() per point (tests/properties/test_batch_engine.py), an order of magnitude faster.
    for net, members in systolic.values():
        result = simulate_batch(net, [arch for _, _, arch in members], tech=tech)
        for (i, task, _), metrics in zip(members, result.rows()):
            error = metrics.pop("Error")
            rows[i] = _row(net, task, {} if error else metrics, None if error is None else " ".join(error.split()))
    return rows  # type: ignore[return-value]


def evaluate_task(net: Network, tech: Technology, task: Task) -> dict[str, Any]:
    """One row: id, workload, parameters, metrics (empty where the point errored) and ``Error``."""
    point = task.point
    try:
        if point.is_sat:
            metrics = sat_metrics(_sat(net, tech, point), point.train)
        else:
            metrics = simulate(net, point.systolic_array(), tech=tech).metrics()
        error = None
    except InputError as err:
        metrics, error = {}, " ".join(str(err).split())  # one line, whatever the message holds
    return _row(net, task, metrics, error)


def _row(net: Network, task: Task, metrics: dict[str, Any], error: str | None) -> dict[str, Any]:
    point = task.point
    row: dict[str, Any] = {"id": task.id, "workload": task.workload.label, **point.parameters()}
    row["batch"] = net.batch
    for name in METRICS + (SAT_METRICS if point.is_sat else ()):
        row[name] = _plain(metrics.get(name))
    row[ERROR_COLUMN] = error
    return row


def _sat(net: Network, tech: Technology, point: Point) -> TrainingReport:
    sparsity = None if point.sparsity == "dense" else point.sparsity
    return simulate_training(net, point.sat_array(), scheme=point.scheme, sparsity=sparsity, tech=tech)


def sat_metrics(report: TrainingReport, train: bool) -> dict[str, Any]:
    """A SAT point's metric columns, over the whole training step (``train``) or the forward pass.

    * ``Total Cycles``: the passes' cycles with their memory stalls, the weight update and exposed pruning;
      ``Compute Cycles``: the GEMMs' compute alone; ``Stall Cycles``: the GEMMs' and the update's memory stalls;
      ``DRAM Bytes``: the GEMMs', their index metadata's and the update's. ``Latency us`` at the array's clock.
    * ``MACs``: the dense-equivalent MACs; ``Executed MACs`` those the PEs perform (non-zero weights only);
      ``Overall Util %``: executed MACs per PE per total cycle.
    * ``Energy pJ`` and its components summed over the passes (``Energy SRAM pJ`` the three SRAMs;
      ``Energy Pruning pJ`` the pruning unit's sorting); ``Area um2``: the array with sparse PEs and pruning unit.
    * ``Dense Cycles`` / ``Speed-up``: dense training of the same passes on the same hardware, and its cycles over
      these. ``FF Cycles``, ``BP Cycles``, ``WU Cycles`` per pass (BP and WU empty without ``train``).
    * Left empty, because the training model does not compute them: ``SRAM Reads``, ``SRAM Writes``.
    """
    passes = [p for p in report.passes if train or p.pass_ is Pass.FF]
    total = sum(p.total_cycles for p in passes)
    executed = sum(p.executed_macs for p in passes)
    energy = [p.energy for p in passes]
    dense = report.dense.cycles(None if train else Pass.FF) if report.dense is not None else total

    def summed(name: str) -> float:
        return float(sum(getattr(e, name) for e in energy))

    return {
        "Total Cycles": total, "Compute Cycles": sum(p.cycles for p in passes),
        "Stall Cycles": sum(p.stall_cycles + p.update_stall_cycles for p in passes),
        "Latency us": total / report.sat.array.clock_mhz, "MACs": sum(p.macs for p in passes),
        "Overall Util %": 100 * executed / (total * report.sat.array.pes) if total else None,
        "SRAM Reads": None, "SRAM Writes": None, "DRAM Bytes": sum(p.dram_bytes for p in passes),
        "Energy pJ": float(sum(e.total_pj for e in energy)), "Energy MAC pJ": summed("mac_pj"),
        "Energy RF pJ": summed("register_pj"), "Energy NoC pJ": summed("noc_pj"),
        "Energy SRAM pJ": summed("sram_ifmap_pj") + summed("sram_filter_pj") + summed("sram_ofmap_pj"),
        "Energy DRAM pJ": summed("dram_pj"), "Energy Leakage pJ": summed("leakage_pj"),
        "Area um2": report.area.total_um2,
        "Executed MACs": executed, "Dense Cycles": dense, "Speed-up": dense / total if total else None,
        "FF Cycles": report.cycles(Pass.FF),
        "BP Cycles": report.cycles(Pass.BP) if train else None, "WU Cycles": report.cycles(Pass.WU) if train else None,
        "Energy Pruning pJ": summed("pruning_pj"),
    }


def _plain(value: Any) -> Any:
    """Built-in int and float: a NumPy scalar would print as ``np.float64(...)`` in a CSV."""
    if value is None or isinstance(value, (bool, str)):
        return value
    return int(value) if isinstance(value, numbers.Integral) else float(value)


# -- worker processes -------------------------------------------------------------------------------------------


def init_worker(sweep_pid: int, close_fds: tuple[int, ...] = ()) -> None:
    """Set up a local pool worker.

    Ctrl-C is the sweep's to handle (a terminal sends it to the whole process group). The worker exits when the
    sweep process is gone, so a killed sweep leaves no orphans (the sweep is watched, not the parent: a worker's
    parent may be a fork server, which itself waits for its children). A forked worker closes ``close_fds``, the
    sweep's copies it inherited (the locked results file), so the lock dies with the sweep.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for fd in close_fds:
        try:
            os.close(fd)
        except OSError:
            pass

    def watch() -> None:
        while _alive(sweep_pid):
            time.sleep(0.25)
        os._exit(1)

    threading.Thread(target=watch, name="hwsim-sweep-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process stays a zombie until its parent reaps it: dead all the same
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True
