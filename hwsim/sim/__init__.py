"""Cycle models of the accelerators.

:mod:`hwsim.sim.stepped` is the cycle-stepped systolic-array reference: every register stepped every cycle, real
int8 x int8 -> int32 arithmetic, and the per-cycle edge demand trace the RTL and the closed-form engine are checked
against.
"""

from hwsim.sim.stepped import BUBBLE, DemandTrace, SteppedResult, simulate_gemm

__all__ = ["BUBBLE", "DemandTrace", "SteppedResult", "simulate_gemm"]
