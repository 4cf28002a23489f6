"""Design-space sweeps: design points x workloads, evaluated in parallel, streamed to a resumable CSV.

:func:`sweep` runs one (``hwsim sweep`` on the command line); :class:`SweepSpec` describes it
(:mod:`hwsim.io.sweep_json` reads it from a file); :class:`SweepResult` holds the rows and their Pareto fronts.
"""

from hwsim.sweep.spec import PARAMETERS, Point, SweepSpec, Task, TechRef, WorkloadRef
from hwsim.sweep.result import PARETO_MAXIMIZE, PARETO_OBJECTIVES, SweepResult, pareto_rows
from hwsim.sweep.run import SweepInterrupted, sweep

__all__ = ["PARAMETERS", "PARETO_MAXIMIZE", "PARETO_OBJECTIVES", "Point", "SweepInterrupted", "SweepResult",
           "SweepSpec", "Task", "TechRef", "WorkloadRef", "pareto_rows", "sweep"]
