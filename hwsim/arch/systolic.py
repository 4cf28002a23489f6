"""A systolic array with its three double-buffered SRAMs and its DRAM interface."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

from hwsim.errors import InputError
from hwsim.types import ArrayShape, Dataflow, PRECISIONS, Record, record

INTERFACE_BANDWIDTHS = ("USER", "CALC")
"""SCALE-Sim's ``InterfaceBandwidth`` modes: the given bandwidth, or one that never stalls."""
SYSTOLIC_DATAFLOWS = (Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY, Dataflow.INPUT_STATIONARY)

FORMAT = "hwsim-systolic-array"
VERSION = 1
"""The document :meth:`SystolicArray.to_dict` writes (and :mod:`hwsim.io.arch_config` reads)."""


@record
class SystolicArray(Record):
    """A ``rows x cols`` PE array fed by an ifmap, a filter and an ofmap SRAM.

    Parameters
    ----------
    rows, cols
        PE array size.
    dataflow
        Which operand stays in the PEs: weight (``ws``), output (``os``) or input (``is``) stationary.
    precision
        The MACs' operand type (int8, int16, int32, fp16, bf16, fp32); the technology table prices it and
        names its accumulator.
    ifmap_bits, filter_bits, ofmap_bits
        Element widths in SRAM and DRAM, by default the precision's width; ifmap and filter must match it.
        Outputs are written at ``ofmap_bits`` (requantised, as an int8 inference accelerator does).
    ifmap_sram_kib, filter_sram_kib, ofmap_sram_kib
        SRAM capacities in KiB (1024 bytes), each double-buffered: half is filled while the other half is
        read. SCALE-Sim's ``IfmapSramSzkB`` etc. mean the same.
    dram_bandwidth_bytes_per_cycle
        Bytes per array clock the DRAM interface moves, reads and writes together (a fraction is allowed).
    dram_latency_cycles
        Cycles from a DMA read request to its first byte (a fixed DRAM latency; writes are posted and pay none).
    interface_bandwidth
        SCALE-Sim's ``[run_presets] InterfaceBandwidth``: ``USER`` moves ``dram_bandwidth_bytes_per_cycle``;
        ``CALC`` is an interface that never makes the array wait (native: transfers take no time; ``--compat
        scalesim``: SCALE-Sim's own CALC estimate).
    clock_mhz
        Array clock, for latency.
    psum_bits
        Width of a partial sum in the ofmap SRAM and in DRAM when it spills (the PEs accumulate at 32 bits).

    The defaults are SCALE-Sim's stock configuration (64 KiB SRAMs, 10 words per cycle, 8-bit words), int8 MACs.
    """

    rows: int
    cols: int
    dataflow: Dataflow = Dataflow.WEIGHT_STATIONARY
    precision: str = "int8"
    ifmap_bits: int | None = None
    filter_bits: int | None = None
    ofmap_bits: int | None = None
    ifmap_sram_kib: float = 64.0
    filter_sram_kib: float = 64.0
    ofmap_sram_kib: float = 64.0
    dram_bandwidth_bytes_per_cycle: float = 10.0
    clock_mhz: float = 1000.0
    psum_bits: int = 32
    dram_latency_cycles: int = 0
    interface_bandwidth: str = "USER"

    def __post_init__(self) -> None:
        ArrayShape(self.rows, self.cols)  # the same check and message as --array
        if not isinstance(self.dataflow, Dataflow):
            object.__setattr__(self, "dataflow", Dataflow.parse(str(self.dataflow)))
        if self.dataflow not in SYSTOLIC_DATAFLOWS:
            raise InputError(
                "the systolic-array model runs ws, os and is (row stationary belongs to the Eyeriss-like template)",
                field="dataflow", value=self.dataflow.value,
            )
        if self.precision not in PRECISIONS:
            raise InputError(f"unknown precision (known: {', '.join(PRECISIONS)})", field="precision",
                             value=self.precision)
        width = PRECISIONS[self.precision]
        if not isinstance(self.psum_bits, int) or isinstance(self.psum_bits, bool) or not 8 <= self.psum_bits <= 64 \
                or self.psum_bits % 8:
            raise InputError("must be a whole number of bytes in bits, from 8 to 64", field="psum_bits",
                             value=self.psum_bits)
        for name in ("ifmap_bits", "filter_bits", "ofmap_bits"):
            value = getattr(self, name)
            if value is None:
                object.__setattr__(self, name, width)
                continue
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 64:
                raise InputError("must be a whole number of bits from 1 to 64", field=name, value=value)
            if name != "ofmap_bits" and value != width:
                raise InputError(f"must be the precision's width ({self.precision}: {width} bits)", field=name,
                                 value=value)
        latency = self.dram_latency_cycles
        if not isinstance(latency, int) or isinstance(latency, bool) or latency < 0:
            raise InputError("must be a whole number of cycles >= 0", field="dram_latency_cycles", value=latency)
        if self.interface_bandwidth not in INTERFACE_BANDWIDTHS:
            raise InputError(f"must be one of {', '.join(INTERFACE_BANDWIDTHS)}", field="interface_bandwidth",
                             value=self.interface_bandwidth)
        for name in ("ifmap_sram_kib", "filter_sram_kib", "ofmap_sram_kib", "dram_bandwidth_bytes_per_cycle",
                     "clock_mhz"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
                raise InputError("must be a number > 0", field=name, value=value)

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    def to_dict(self) -> dict[str, Any]:
        """The array as an architecture document (format :data:`FORMAT`), every field written."""
        doc: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            doc[f.name] = value.value if f.name == "dataflow" else value
        return doc

    @property
    def shape(self) -> ArrayShape:
        return ArrayShape(self.rows, self.cols)
