"""Energy and area of template sub-accelerators, priced two ways.

* :func:`template_energy` / :func:`template_area`: hwsim's own cost model with a technology table
  (:mod:`hwsim.cost.tech`), the same prices the systolic array pays. L1 is a per-PE scratchpad and L2 a shared
  buffer, both SRAMs priced by the capacity law of the table; the NoC is a wire from the shared buffer across half
  the PE array's side per transfer; DRAM per byte; leakage over the layer's cycles.
* :func:`maestro_energy_mac_units` / :func:`maestro_area_um2`: MAESTRO's model as NASAIC used it
  (``tables/maestro.json``, carried by the technology as ``tech.maestro``): energy in MAC units,
  ``18.61 x L2 + 1.68 x L1 + MACs``, and area from MAESTRO's 28 nm coefficients. It has no DRAM, NoC wire or
  leakage term, and its L1/L2 prices do not depend on the buffer sizes.
"""

from __future__ import annotations

import math
from typing import Any

from typing import Protocol

from hwsim.arch.templates import SubAccelerator
from hwsim.cost.breakdown import EnergyBreakdown, SubAcceleratorArea
from hwsim.cost.tech import Technology
from hwsim.types import PRECISIONS


class TemplateActions(Protocol):
    """What the template cost models price: a layer's counts on a sub-accelerator
    (:class:`hwsim.sim.template.TemplateLayerCounts` is one)."""

    macs: int
    cycles: int
    l1_reads: int
    l1_writes: int
    l2_reads: int
    l2_writes: int
    l2_weight_reads: int
    l1_psum_accesses: int
    l2_psum_accesses: int
    noc_bytes: int
    dram_bytes: int


def template_area(sub: SubAccelerator, tech: Technology) -> SubAcceleratorArea:
    """PEs (MAC and L1 scratchpad), the array's overhead (NoC, control) and the shared L2, in um^2."""
    pe = (tech.mac_area_um2(sub.precision) + tech.sram_area_um2(sub.l1_bytes / 1024)) * (1 + tech.pe_overhead)
    return SubAcceleratorArea(pe_um2=pe, array_um2=pe * sub.pes * (1 + tech.array_overhead),
                              l2_um2=tech.sram_area_um2(sub.l2_kib))


def template_energy(r: TemplateActions, sub: SubAccelerator, tech: Technology,
                    area: SubAcceleratorArea) -> EnergyBreakdown:
    """Energy of one layer in pJ: L1 accesses go under ``register_pj``, L2 accesses by operand under the SRAM
    fields (inputs, weights, and outputs with partial sums)."""
    bits = PRECISIONS[sub.precision]
    psum_bits = sub.psum_bits
    l1_kib = sub.l1_bytes / 1024
    l1_narrow = r.l1_reads + r.l1_writes - r.l1_psum_accesses
    l1_pj = (l1_narrow * tech.sram_energy_pj(l1_kib, bits) + r.l1_psum_accesses * tech.sram_energy_pj(l1_kib, psum_bits))
    l2_access = tech.sram_energy_pj(sub.l2_kib, bits)
    l2_psum = tech.sram_energy_pj(sub.l2_kib, psum_bits)
    psums = r.l2_psum_accesses // 2  # each partial sum is written out once and read back once
    inputs = r.l2_reads - r.l2_weight_reads - psums
    side_mm = math.sqrt(sub.pes) * area.pe_pitch_mm
    time_us = r.cycles / sub.clock_mhz
    leakage_mw = tech.sram_leakage_mw(sub.l2_kib + sub.pes * l1_kib) + tech.pe_leakage_mw(sub.precision, 0) * sub.pes
    return EnergyBreakdown(
        mac_pj=r.macs * tech.mac_energy_pj(sub.precision),
        register_pj=l1_pj,
        noc_pj=tech.wire_energy_pj(r.noc_bytes * 8, side_mm / 2),
        sram_ifmap_pj=inputs * l2_access,
        sram_filter_pj=r.l2_weight_reads * l2_access,
        sram_ofmap_pj=(r.l2_writes - psums) * l2_access + r.l2_psum_accesses * l2_psum,
        dram_pj=tech.dram_energy_pj(r.dram_bytes),
        leakage_pj=leakage_mw * time_us * 1e3,  # mW x us = nJ
    )


def _coefficient(tech: Technology, *path: str) -> Any:
    node: Any = tech.maestro
    for key in path:
        node = node[key]
    return node["value"]


def maestro_energy_mac_units(r: TemplateActions, tech: Technology) -> float:
    """MAESTRO's energy of one layer, in units of one MAC's energy (coefficients from ``tech.maestro``)."""
    return (_coefficient(tech, "energy_mac_units", "l2_access") * (r.l2_reads + r.l2_writes)
            + _coefficient(tech, "energy_mac_units", "l1_access") * (r.l1_reads + r.l1_writes)
            + _coefficient(tech, "energy_mac_units", "mac") * r.macs)


def maestro_area_um2(sub: SubAccelerator, tech: Technology, simd: int = 1) -> float:
    """MAESTRO's 28 nm area of a sub-accelerator; its NoC bandwidth in words (of the operand width) per cycle.
    The coefficients are ``tech.maestro``'s; MAESTRO's area is its own 28 nm one, whatever ``tech``'s node."""
    n = sub.pes
    words_per_cycle = sub.bytes_per_cycle / (PRECISIONS[sub.precision] / 8)
    noc_a, noc_b, noc_c = _coefficient(tech, "area_um2", "noc")
    ic_a, ic_b, ic_c, ic_d = _coefficient(tech, "area_um2", "pe_interconnect")
    return (n * (_coefficient(tech, "area_um2", "pe_mac_per_simd_lane") * simd
                 + _coefficient(tech, "area_um2", "pe_l1_per_64_bytes") * math.ceil(sub.l1_bytes / 64))
            + _coefficient(tech, "area_um2", "l2_per_32_kib") * math.ceil(sub.l2_kib * 1024 / 32768)
            + noc_a * (noc_b * n + noc_c) * words_per_cycle
            + ic_a * (ic_b * n * n + ic_c * n + ic_d))
