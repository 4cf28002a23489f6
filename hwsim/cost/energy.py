"""Energy of a layer, Accelergy-style: the sum over actions of count x energy per action.

Counts come from the cycle model's report (MACs, SRAM reads and writes per operand, DRAM bytes, cycles) and from
the dataflow's declarative description (``dataflows/*.json``, carried by the technology: register accesses and
neighbour hops per MAC, and how far stationary values and outputs shift through the array). Prices come from the
technology table:

* MAC: multiply at the array's precision plus the add in its accumulator precision, per real MAC (idle PEs are
  clock-gated and only leak);
* register (RF): per bit read or written in a PE's flip-flops;
* NoC: per bit per hop, a wire as long as the PE's side (from the area model, so it shortens at smaller nodes);
* SRAM: per access, priced by the SRAM's capacity and the access width (ofmap accesses carry 32-bit partial sums);
* DRAM: per byte;
* leakage: the SRAMs' and the PEs' (registers and logic) leakage power over the layer's cycles at the array's clock.
"""

from __future__ import annotations

from typing import Protocol

from hwsim.arch.systolic import SystolicArray
from hwsim.cost.area import pe_register_bits
from hwsim.cost.breakdown import AreaBreakdown, EnergyBreakdown
from hwsim.cost.tech import Technology
from hwsim.types import PRECISIONS


class ArrayActions(Protocol):
    """What the energy model prices: a cycle model's counts of one layer (or any sum of layers) on an array.

    :class:`hwsim.sim.counts.LayerCounts` is one; the cost module names only what it reads.
    """

    macs: int
    ifmap_sram_reads: int
    filter_sram_reads: int
    ofmap_sram_writes: int
    ofmap_sram_reads: int

    @property
    def dram_bytes(self) -> int: ...

    @property
    def total_cycles(self) -> int: ...


def layer_energy(layer: ArrayActions, arch: SystolicArray, tech: Technology, area: AreaBreakdown) -> EnergyBreakdown:
    """Energy of ``layer`` on ``arch`` by component.

    Linear in the layer's counts, and elementwise: the counts and ``arch``'s numbers may be NumPy arrays, one
    entry per design (:class:`hwsim.sim.batch.DesignGroup`), and the energies then are too.
    """
    spec = tech.actions(arch.dataflow.value)
    acc_bits = PRECISIONS[tech.table["accumulator"][arch.precision]]
    bits = {"ifmap": arch.ifmap_bits, "filter": arch.filter_bits, "psum": acc_bits}
    macs = layer.macs
    rows = arch.rows

    stationary_elements = {"filter": layer.filter_sram_reads, "ifmap": layer.ifmap_sram_reads}.get(spec.stationary, 0)
    outputs = layer.ofmap_sram_writes if spec.stationary == "ofmap" else 0
    stationary_bits = bits.get(spec.stationary, acc_bits)
    register_bits = macs * (sum(n * bits[o] for o, n in spec.reads_per_mac.items())
                            + sum(n * bits[o] for o, n in spec.writes_per_mac.items()))
    register_bits = register_bits + stationary_elements * stationary_bits * spec.linear(spec.stationary_writes, rows)
    register_bits = register_bits + outputs * acc_bits * spec.linear(spec.output_writes, rows)
    hop_bits = macs * sum(n * bits[o] for o, n in spec.hops_per_mac.items())
    hop_bits = hop_bits + stationary_elements * stationary_bits * spec.linear(spec.stationary_hops, rows)
    hop_bits = hop_bits + outputs * acc_bits * spec.linear(spec.output_hops, rows)

    time_us = layer.total_cycles / arch.clock_mhz
    leakage_mw = (tech.sram_leakage_mw(arch.ifmap_sram_kib + arch.filter_sram_kib + arch.ofmap_sram_kib)
                  + tech.pe_leakage_mw(arch.precision, pe_register_bits(arch, tech, acc_bits)) * arch.pes)
    psum_bits = arch.psum_bits
    return EnergyBreakdown(
        mac_pj=macs * tech.mac_energy_pj(arch.precision),
        register_pj=tech.register_energy_pj(register_bits),
        noc_pj=tech.wire_energy_pj(hop_bits, area.pe_pitch_mm),
        sram_ifmap_pj=layer.ifmap_sram_reads * tech.sram_energy_pj(arch.ifmap_sram_kib, arch.ifmap_bits),
        sram_filter_pj=layer.filter_sram_reads * tech.sram_energy_pj(arch.filter_sram_kib, arch.filter_bits),
        sram_ofmap_pj=(layer.ofmap_sram_writes + layer.ofmap_sram_reads)
        * tech.sram_energy_pj(arch.ofmap_sram_kib, psum_bits),
        dram_pj=tech.dram_energy_pj(layer.dram_bytes),
        leakage_pj=leakage_mw * time_us * 1e3,  # mW x us = nJ
    )
