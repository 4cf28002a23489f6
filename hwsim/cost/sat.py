"""What SAT costs beyond a dense systolic array of the same size.

* Each PE receives a window of ``M`` activations instead of one (``M - 1`` more operand registers), holds a
  ``log2 M``-bit index next to its weight, and selects its operand with an ``M``:1 multiplexer.
* The pruning unit (SORE) has ``sorter_lanes`` top-N-of-M sorters, each ``M - 1`` magnitude comparators used over
  ``M`` cycles per group; a comparator is priced as a 16-bit adder (the weights compared are FP16).
* The index metadata is stored beside the values in the filter SRAM (no extra macro) and read with them; that read is
  charged where the training model counts filter reads.

The hardware is built for the widest group it takes (``SatArray.m_max``); energy is charged for the group size a GEMM
actually uses.
"""

from __future__ import annotations

import math
from dataclasses import replace

from hwsim.arch.sat import SatArray
from hwsim.cost.area import systolic_area
from hwsim.cost.tech import Technology
from hwsim.cost.breakdown import AreaBreakdown
from hwsim.workload.sparsity import index_bits

COMPARATOR_PRECISION = "int16"


def sat_area(sat: SatArray, tech: Technology) -> AreaBreakdown:
    arch = sat.array
    m = sat.m_max
    bits = arch.ifmap_bits
    extra_bits = (m - 1) * bits + index_bits(m)
    extra = (tech.register_area_um2(extra_bits) + tech.mux_area_um2(m, bits)) * (1 + tech.pe_overhead)
    base = systolic_area(arch, tech)
    pe = base.pe_um2 + extra
    return replace(base, pe_um2=pe, array_um2=pe * arch.pes * (1 + tech.array_overhead),
                   sorter_um2=sat.sorter_lanes * (m - 1) * tech.add_area_um2(COMPARATOR_PRECISION))


def sparse_mac_overhead_pj(executed_macs: int, m: int, operand_bits: int, tech: Technology) -> tuple[float, float]:
    """(multiplexer, extra window-register) energy of ``executed_macs`` MACs that select from windows of ``m``."""
    if m <= 1:
        return 0.0, 0.0
    return (executed_macs * tech.mux_energy_pj(m, operand_bits),
            executed_macs * tech.register_energy_pj((m - 1) * operand_bits))


def sorter_energy_pj(weights: int, m: int, tech: Technology) -> float:
    """Energy to pick the top N of every group of ``m`` among ``weights`` weights once."""
    groups = math.ceil(weights / m)
    return groups * m * (m - 1) * tech.add_energy_pj(COMPARATOR_PRECISION)
