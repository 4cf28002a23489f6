"""A heterogeneous accelerator (NASAIC): several template sub-accelerators sharing a PE and a bandwidth budget."""

from __future__ import annotations

from dataclasses import dataclass

from hwsim.arch.templates import SubAccelerator
from hwsim.errors import InputError


@dataclass(frozen=True)
class Heterogeneous:
    """Sub-accelerators on one chip.

    Parameters
    ----------
    subs
        The sub-accelerators; they share the clock.
    pe_budget
        PEs the chip may hold: the sub-accelerators' PEs must sum to at most this (NASAIC: 4096, assumed).
    bandwidth_budget_gbps
        Bandwidth the sub-accelerators' NoCs share, GB/s (NASAIC: 64 GB/s, assumed).
    """

    subs: tuple[SubAccelerator, ...]
    pe_budget: int = 4096
    bandwidth_budget_gbps: float = 64.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "subs", tuple(self.subs))
        if not self.subs:
            raise InputError("needs at least one sub-accelerator", field="subs", value=0)
        for name in ("pe_budget", "bandwidth_budget_gbps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise InputError("must be a number > 0", field=name, value=value)
        pes = sum(s.pes for s in self.subs)
        if pes > self.pe_budget:
            raise InputError(f"the sub-accelerators' PEs sum to {pes}, over the budget of {self.pe_budget}",
                             field="pes", value=[s.pes for s in self.subs])
        bandwidth = sum(s.bandwidth_gbps for s in self.subs)
        if bandwidth > self.bandwidth_budget_gbps * (1 + 1e-12):
            raise InputError(f"the sub-accelerators' bandwidths sum to {bandwidth:g} GB/s, over the budget of "
                             f"{self.bandwidth_budget_gbps:g}", field="bandwidth_gbps",
                             value=[s.bandwidth_gbps for s in self.subs])
        clocks = {s.clock_mhz for s in self.subs}
        if len(clocks) > 1:
            raise InputError("sub-accelerators share one clock", field="clock_mhz", value=sorted(clocks))

    @property
    def clock_mhz(self) -> float:
        return self.subs[0].clock_mhz

    @property
    def label(self) -> str:
        return " + ".join(s.label for s in self.subs)


@dataclass(frozen=True)
class SpecCheck:
    """One spec: the design's value, the limit, and the margin ``(limit - value) / limit`` in percent."""

    name: str
    value: float
    limit: float

    @property
    def met(self) -> bool:
        return self.value <= self.limit

    @property
    def margin_pct(self) -> float:
        return 100 * (self.limit - self.value) / self.limit


@dataclass(frozen=True)
class Specs:
    """Design constraints; ``None`` means unconstrained."""

    latency_cycles: float | None = None
    energy_nj: float | None = None
    area_um2: float | None = None

    def __post_init__(self) -> None:
        for name in ("latency_cycles", "energy_nj", "area_um2"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise InputError("must be a number > 0", field=f"specs.{name}", value=value)

    def check(self, metrics: dict[str, float]) -> tuple[SpecCheck, ...]:
        return tuple(SpecCheck(name, metrics[name], limit) for name in ("latency_cycles", "energy_nj", "area_um2")
                     if (limit := getattr(self, name)) is not None)
