"""Running a sweep: chunks of points on worker processes or a Dask cluster, rows streamed to a CSV as they finish.

Points are evaluated in chunks that share a workload, a technology and a batch
(:func:`hwsim.sweep.evaluate.evaluate_chunk`), so a worker loads a workload once and a chunk could be handed to a
batched model whole. Finished chunks are appended to the results file at once (:class:`hwsim.sweep.store.ResultsFile`);
resuming skips every id already in it.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from hwsim.cost.tech import Technology
from hwsim.errors import InputError
from hwsim.sweep.evaluate import evaluate_chunk, init_worker, network, technology
from hwsim.sweep.progress import Progress, wanted
from hwsim.sweep.result import SweepResult
from hwsim.sweep.spec import SweepSpec, Task, WorkloadRef
from hwsim.sweep.store import ResultsFile
from hwsim.workload.network import Network

SCHEDULERS = ("local", "dask")
MAX_CHUNK = 32


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or a notebook's interrupt) stopped a sweep; every row written before it is in the results file.

    Attributes
    ----------
    written
        Rows in the results file for this sweep (finished before this run, and by it).
    total
        Rows of the whole sweep.
    path
        The results file, or ``None`` when the sweep was not writing one (then nothing is kept).
    """

    def __init__(self, written: int, total: int, path: Path | None) -> None:
        self.written, self.total, self.path = written, total, path
        if path is None:
            message = f"sweep interrupted after {written} of {total} rows; no results file was given, none are kept"
        else:
            message = (f"sweep interrupted: {written} of {total} rows are in {path}; resuming (--resume, resume=True) "
                       "computes the rest")
        super().__init__(message)


@dataclass(frozen=True)
class Chunk:
    """Tasks evaluated together: one workload, one technology, one batch, all systolic or all SAT."""

    workload: WorkloadRef
    tech: str
    tasks: tuple[Task, ...]


def sweep(spec: SweepSpec | Mapping[str, Any] | str | Path, out: str | Path | None = None, *, resume: bool = False,
          jobs: int | None = None, scheduler: str = "local", dask_address: str | None = None,
          dask_workers: int | None = None, chunk_size: int | None = None,
          progress: bool | None = None) -> SweepResult:
    """Evaluate every design point of ``spec`` on every workload, in parallel, streaming rows to ``out``.

    Parameters
    ----------
    spec
        A sweep file (``.json``, format ``hwsim-sweep``), the same document as a dict (paths relative to the
        working folder), or a :class:`~hwsim.sweep.spec.SweepSpec`.
    out
        A ``.csv`` file that receives one row per point x workload as chunks finish. ``None`` keeps the rows in
        memory only. An existing file is an error unless ``resume``.
    resume
        Continue ``out``: rows already there (matched by id) are kept and not recomputed; the rest are appended.
    jobs
        Worker processes of the local scheduler (default: one per CPU); 1 runs in this process.
    scheduler
        ``"local"`` (a process pool) or ``"dask"`` (a Dask distributed cluster: ``dask_address``, or a
        ``LocalCluster`` of ``dask_workers`` single-threaded worker processes, by default one per CPU).
    chunk_size
        Points per chunk (default: enough chunks to keep every worker busy, at most 32 points each).
    progress
        Draw a progress bar on stderr; by default only on a terminal and never when ``CI`` is set.

    Returns
    -------
    SweepResult
        Every row of the sweep in the sweep's order, how many were computed and how many reused, Pareto fronts.

    Raises
    ------
    InputError
        A bad sweep, workload, technology or argument; a results file that exists (without ``resume``), belongs
        to another sweep or is locked by a running sweep. A point on which the model cannot run is not an error:
        its row says why in ``Error``.
    SweepInterrupted
        On Ctrl-C: the rows written so far stay in ``out``.
    """
    start = time.monotonic()
    spec = _spec(spec)
    workers = _check_arguments(out, resume, jobs, scheduler, dask_address, dask_workers, chunk_size)
    tasks = spec.tasks()
    # Load every workload and technology here first: a bad file fails before any work starts.
    networks = {w: network(w.source, w.identity) for w in spec.workloads}
    techs = {p.tech.source: technology(p.tech.source, p.tech.identity) for p in spec.points}
    columns = spec.columns()
    store = ResultsFile(out, columns, resume=resume) if out is not None else None
    computed: dict[str, dict[str, Any]] = {}
    try:
        ids = {t.id for t in tasks}
        finished = {i: r for i, r in store.rows.items() if i in ids} if store else {}
        foreign = len(store.rows) - len(finished) if store else 0
        todo = [t for t in tasks if t.id not in finished]
        chunks = make_chunks(todo, chunk_size or default_chunk_size(len(todo), workers))
        bar = Progress(len(tasks), len(finished), enabled=wanted(progress, sys.stderr))
        if not chunks:  # everything was already in the results file: no workers, no cluster
            runner = _serial(chunks, techs)
            where = "nothing left to compute"
        elif scheduler == "dask":
            runner = _dask(chunks, techs, networks, dask_address, workers)
            where = f"Dask scheduler {dask_address}" if dask_address else f"Dask LocalCluster of {workers} workers"
        elif workers == 1 or len(chunks) <= 1:
            runner = _serial(chunks, techs)
            where = "this process"
        else:
            runner = _local(chunks, techs, workers, (store.fileno(),) if store is not None else ())
            where = f"{min(workers, len(chunks))} local processes"
        try:
            with closing(runner) as results:
                for rows in results:
                    rows = [{c: r.get(c) for c in columns} for r in rows]  # as a file would give them back
                    if store is not None:
                        store.append(rows)
                    computed.update((r["id"], r) for r in rows)
                    bar.advance(len(rows))
        except KeyboardInterrupt:
            bar.close()
            if store is None:
                raise SweepInterrupted(len(computed), len(tasks), None) from None
            # Counted from the file: the interrupt may have come between a chunk's write and its bookkeeping.
            raise SweepInterrupted(len(store.ids() & ids), len(tasks), store.path) from None
        bar.close()
    except InputError:  # e.g. no Dask scheduler at that address
        if store is not None:
            store.discard_if_unused()
        raise
    finally:
        if store is not None:
            store.close()
    rows = tuple(finished[t.id] if t.id in finished else computed[t.id] for t in tasks)
    return SweepResult(name=spec.name, columns=columns, rows=rows, computed=len(computed),
                       reused=len(finished), duplicates=spec.duplicates, foreign=foreign,
                       path=Path(out) if out is not None else None, seconds=time.monotonic() - start,
                       runner=where)


def _spec(spec: SweepSpec | Mapping[str, Any] | str | Path) -> SweepSpec:
    from hwsim.io.sweep_json import load_sweep, sweep_from_dict

    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, Mapping):
        return sweep_from_dict(spec, base=Path.cwd())
    if isinstance(spec, (str, Path)):
        return load_sweep(spec)
    raise InputError("expected a sweep file, a sweep dict or a SweepSpec", field="spec", value=type(spec).__name__)


def _check_arguments(out: object, resume: bool, jobs: object, scheduler: object, dask_address: object,
                     dask_workers: object, chunk_size: object) -> int:
    """The number of workers, after checking that the arguments make sense together."""
    if scheduler not in SCHEDULERS:
        raise InputError(f"must be one of {', '.join(SCHEDULERS)}", field="scheduler", value=scheduler)
    for name, value in (("jobs", jobs), ("dask_workers", dask_workers), ("chunk_size", chunk_size)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise InputError("must be a whole number >= 1", field=name, value=value)
    if resume and out is None:
        raise InputError("needs a results file to resume", field="resume", value=True)
    if scheduler == "local":
        for name, value in (("dask_address", dask_address), ("dask_workers", dask_workers)):
            if value is not None:
                raise InputError("needs scheduler 'dask'", field=name, value=value)
        return jobs or os.cpu_count() or 1
    if jobs is not None:
        raise InputError("is for the local scheduler; a Dask LocalCluster takes dask_workers", field="jobs", value=jobs)
    if dask_address is not None and dask_workers is not None:
        raise InputError("is for the LocalCluster started when no dask_address is given", field="dask_workers",
                         value=dask_workers)
    return dask_workers or os.cpu_count() or 1


def default_chunk_size(tasks: int, workers: int) -> int:
    """About eight chunks per worker, for balance and a smooth progress bar, and at most :data:`MAX_CHUNK` points
    per chunk, so an interrupted sweep loses little work in flight."""
    return max(1, min(MAX_CHUNK, math.ceil(tasks / (8 * workers))))


def make_chunks(tasks: Sequence[Task], size: int) -> list[Chunk]:
    """Consecutive tasks sharing workload, technology, batch and model (systolic or SAT), ``size`` at a time, in the
    sweep's order: a chunk of systolic points can go to a batched model whole."""
    chunks: list[Chunk] = []
    group: list[Task] = []

    def flush() -> None:
        if group:
            first = group[0]
            chunks.append(Chunk(first.workload, first.point.tech.source, tuple(group)))
            group.clear()

    for task in tasks:
        if group:
            head = group[0]
            same = (task.workload == head.workload and task.point.tech.source == head.point.tech.source
                    and task.point.batch == head.point.batch and task.point.is_sat == head.point.is_sat)
            if not same or len(group) == size:
                flush()
        group.append(task)
    flush()
    return chunks


def _serial(chunks: Sequence[Chunk], techs: Mapping[str, Technology]) -> Iterator[list[dict[str, Any]]]:
    for chunk in chunks:
        yield evaluate_chunk(chunk.workload, techs[chunk.tech], chunk.tasks)


def _context() -> tuple[Any, bool]:
    """How to start local workers, and whether they are forks of this process.

    A plain fork on Linux when this process has no other thread: the quickest start, the loaded workloads come
    along, and nothing of the caller's script is imported again (a script without a ``__main__`` guard works).
    With threads (a notebook kernel, a Dask client) forking is unsafe, so a fork server: a clean process that
    imports the model once and forks the workers; then a script needs the usual ``if __name__ == "__main__":``.
    """
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork"), True
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["hwsim.sweep.evaluate"])
        return context, False
    return multiprocessing.get_context("spawn"), False


def _local(chunks: Sequence[Chunk], techs: Mapping[str, Technology], jobs: int,
           private_fds: tuple[int, ...] = ()) -> Iterator[list[dict[str, Any]]]:
    """Chunks on a pool of worker processes, yielded as they finish. ``private_fds`` are this process's (the
    locked results file): forked workers close their copies, so a killed sweep's lock goes with it."""
    context, forks = _context()
    executor = ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), mp_context=context, initializer=init_worker,
                                   initargs=(os.getpid(), private_fds if forks else ()))
    pending: set[Any] = set()
    completed = False
    try:
        pending = {executor.submit(evaluate_chunk, c.workload, techs[c.tech], c.tasks) for c in chunks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
        completed = True
    finally:
        # Interrupted: drop what has not started (cancelled here, as the executor may be collected before its
        # manager thread would); what runs finishes its chunk, unwritten, and the workers exit.
        for future in pending:
            future.cancel()
        executor.shutdown(wait=completed, cancel_futures=True)


def _dask(chunks: Sequence[Chunk], techs: Mapping[str, Technology], networks: Mapping[WorkloadRef, Network],
          address: str | None, workers: int) -> Iterator[list[dict[str, Any]]]:
    try:
        import distributed
    except ImportError:
        raise InputError("needs Dask: pip install -e '.[distributed]'", field="scheduler", value="dask") from None
    import logging

    cluster = None
    if address is not None:
        try:
            client = distributed.Client(address, timeout="10s")
        except (OSError, TimeoutError) as err:
            raise InputError(f"cannot connect to a Dask scheduler: {' '.join(str(err).split())}",
                             field="dask_address", value=address) from None
    else:
        with _ignoring_ctrl_c():  # the cluster's processes inherit it: Ctrl-C is the sweep's to handle
            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                               dashboard_address=None, silence_logs=logging.ERROR)
        client = distributed.Client(cluster)
    futures: list[Any] = []
    try:
        # Each worker gets each workload and table once, loaded here: no shared file system needed.
        nets = {w: client.scatter(n, broadcast=True, hash=False) for w, n in networks.items()}
        tables = {s: client.scatter(t, broadcast=True, hash=False) for s, t in techs.items()}
        futures = [client.submit(evaluate_chunk, c.workload, tables[c.tech], c.tasks, nets[c.workload], pure=False)
                   for c in chunks]
        for future in distributed.as_completed(futures):
            yield future.result()
    finally:
        if futures:
            client.cancel(futures)
        client.close()
        if cluster is not None:
            cluster.close()


@contextmanager
def _ignoring_ctrl_c() -> Iterator[None]:
    """Ignore SIGINT while child processes start (they keep ignoring it), when this is the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
