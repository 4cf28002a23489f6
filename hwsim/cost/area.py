"""Area of a systolic array: PEs (multiplier, accumulator adder, registers), array overhead, SRAMs."""

from __future__ import annotations

from hwsim.arch.systolic import SystolicArray
from hwsim.cost.tech import Technology
from hwsim.types import PRECISIONS
from hwsim.cost.breakdown import AreaBreakdown


def pe_register_bits(arch: SystolicArray, tech: Technology, accumulator_bits: int) -> int:
    bits = {"ifmap": arch.ifmap_bits, "filter": arch.filter_bits, "psum": accumulator_bits}
    return sum(count * bits[operand] for operand, count in tech.actions(arch.dataflow.value).pe_registers.items())


def systolic_area(arch: SystolicArray, tech: Technology) -> AreaBreakdown:
    accumulator_bits = PRECISIONS[tech.table["accumulator"][arch.precision]]
    pe = (tech.mac_area_um2(arch.precision) + tech.register_area_um2(pe_register_bits(arch, tech, accumulator_bits)))
    pe *= 1 + tech.pe_overhead
    return AreaBreakdown(
        pe_um2=pe,
        array_um2=pe * arch.pes * (1 + tech.array_overhead),
        sram_ifmap_um2=tech.sram_area_um2(arch.ifmap_sram_kib),
        sram_filter_um2=tech.sram_area_um2(arch.filter_sram_kib),
        sram_ofmap_um2=tech.sram_area_um2(arch.ofmap_sram_kib),
    )
