"""A network on many designs at once: the batch engine's totals priced into one row of metrics per design.

Energy is linear in the counts of a layer (actions times prices, leakage times cycles), so the batch prices the
network's totals once instead of each layer: the same numbers as :meth:`hwsim.report.systolic.Report.metrics` up to
floating-point rounding (about 1e-15 relative). Counts are equal exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hwsim.arch.systolic import SystolicArray
from hwsim.cost import Technology, layer_energy, systolic_area
from hwsim.report.systolic import METRICS, network_metrics
from hwsim.sim.batch import BatchCounts

INT_METRICS = ("Total Cycles", "Compute Cycles", "Stall Cycles", "MACs", "SRAM Reads", "SRAM Writes", "DRAM Bytes")
"""The metrics that are counts (``int64`` arrays); the others are ``float64``."""


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Whole-network numbers of one network on many designs.

    Attributes
    ----------
    archs
        The designs, in the order given.
    metrics
        One read-only array per :data:`~hwsim.report.systolic.METRICS` key, one entry per design: ``int64`` for
        the counts (:data:`INT_METRICS`), ``float64`` for the rest. A design that cannot run has 0 in its counts
        and NaN in its other numbers.
    errors
        Per design, ``None``, or the message :func:`hwsim.api.simulate` raises for it (a fold that does not fit
        its SRAM).
    """

    archs: tuple[SystolicArray, ...]
    metrics: dict[str, np.ndarray]
    errors: tuple[str | None, ...]

    def rows(self) -> list[dict[str, Any]]:
        """One dict per design for writers: the metrics as Python numbers (``None`` where the design cannot run)
        and ``"Error"`` (``None`` or the message)."""
        columns = {name: values.tolist() for name, values in self.metrics.items()}
        return [{**{name: None if error else columns[name][i] for name in METRICS}, "Error": error}
                for i, error in enumerate(self.errors)]


def assemble(counts: BatchCounts, tech: Technology) -> BatchResult:
    """The metrics of every design of ``counts``, priced with ``tech``."""
    size = len(counts.archs)
    metrics = {name: np.zeros(size, np.int64 if name in INT_METRICS else np.float64) for name in METRICS}
    for name, values in metrics.items():
        if name not in INT_METRICS:
            values[[i for i, error in enumerate(counts.errors) if error]] = np.nan
    for part in counts.groups:
        area = systolic_area(part.group, tech)
        energy = layer_energy(part.total, part.group, tech, area)
        for name, values in network_metrics(part.total, energy, area, part.group.clock_mhz).items():
            metrics[name][part.index] = values
    for values in metrics.values():
        values.flags.writeable = False
    return BatchResult(archs=counts.archs, metrics=metrics, errors=counts.errors)
