"""A finished sweep: its rows, how they were obtained, and their Pareto fronts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from hwsim.report.pareto import pareto_front
from hwsim.sweep.spec import ERROR_COLUMN

PARETO_OBJECTIVES = ("Latency us", "Energy pJ", "Area um2", "Overall Util %")
"""What the Pareto front trades off: latency, energy and area minimised, PE utilisation maximised."""
PARETO_MAXIMIZE = (False, False, False, True)


def pareto_rows(rows: Sequence[Mapping[str, Any]], objectives: Sequence[str] = PARETO_OBJECTIVES,
                maximize: Sequence[bool] | None = PARETO_MAXIMIZE) -> list[Mapping[str, Any]]:
    """The rows no other row beats in every objective, best first in the first objective.

    Rows that errored or lack an objective are never on the front. Compare rows of one workload: a design's
    latency on one network says nothing against another's on a different one.
    """
    if maximize is not None and len(maximize) != len(objectives):
        raise ValueError(f"maximize has {len(maximize)} entries for {len(objectives)} objectives")
    valid = [r for r in rows if not r.get(ERROR_COLUMN) and all(r.get(o) is not None for o in objectives)]
    if not valid:
        return []
    values = np.array([[float(r[o]) for o in objectives] for r in valid])
    return [valid[i] for i in pareto_front(values, maximize=maximize)]


@dataclass(frozen=True)
class SweepResult:
    """What :func:`hwsim.api.sweep` returns.

    Attributes
    ----------
    name
        The sweep's name.
    columns
        The columns of every row (and of the results file).
    rows
        One dict per point x workload, in the sweep's order (workload by workload), whether computed now or read
        back from the results file; ``pandas.DataFrame(result.rows)`` makes a table of them.
    computed
        Rows computed by this call.
    reused
        Rows that were already in the results file (a resumed sweep) and were not recomputed.
    duplicates
        Points the sweep lists more than once, evaluated once.
    foreign
        Rows in the results file whose ids are not this sweep's (a sweep that was edited between runs); kept in the
        file, not in :attr:`rows`.
    path
        The results file, if any.
    seconds
        Wall time of this call.
    runner
        Where the rows were computed, e.g. ``"2 local processes"``.
    """

    name: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    computed: int
    reused: int
    duplicates: int = 0
    foreign: int = 0
    path: Path | None = None
    seconds: float = 0.0
    runner: str = ""

    @property
    def errors(self) -> tuple[dict[str, Any], ...]:
        """Rows of points on which some layer could not run (their ``Error`` says why)."""
        return tuple(r for r in self.rows if r.get(ERROR_COLUMN))

    @property
    def workloads(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r["workload"] for r in self.rows))

    def for_workload(self, workload: str) -> list[dict[str, Any]]:
        if workload not in self.workloads:
            raise KeyError(f"{workload!r} is not a workload of this sweep ({', '.join(self.workloads)})")
        return [r for r in self.rows if r["workload"] == workload]

    def pareto(self, workload: str | None = None, objectives: Sequence[str] = PARETO_OBJECTIVES,
               maximize: Sequence[bool] | None = PARETO_MAXIMIZE) -> list[dict[str, Any]]:
        """The Pareto-optimal rows of ``workload``, or of every workload (each front on its own, one after the
        other). By default latency, energy and area are minimised and PE utilisation maximised."""
        names = self.workloads if workload is None else (workload,)
        return [dict(r) for w in names for r in pareto_rows(self.for_workload(w), objectives, maximize)]

    def plot_pareto(self, path: str | Path | None = None, workloads: Sequence[str] | None = None) -> Any:
        """Energy against latency of every design, coloured by area, Pareto-optimal ones ringed; one panel per
        workload. Returns the matplotlib ``Figure``; saves it to ``path`` when given."""
        from hwsim.sweep.plots import pareto_figure

        names = tuple(workloads) if workloads is not None else self.workloads
        return pareto_figure({w: self.for_workload(w) for w in names}, path=path, title=self.name)
