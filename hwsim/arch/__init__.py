"""Frozen descriptions of hardware: what is built, not how it is simulated."""

from hwsim.arch.systolic import SystolicArray

__all__ = ["SystolicArray"]
