"""The declarative dataflow files of ``dataflows/``: what moves inside the array per MAC."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from hwsim.types import Dataflow


@dataclass(frozen=True)
class DataflowSpec:
    """Per-MAC register accesses and neighbour hops of a dataflow, by operand (``ifmap``, ``filter``, ``psum``)."""

    name: str
    stationary: str
    pe_registers: dict[str, int]
    reads_per_mac: dict[str, float]
    writes_per_mac: dict[str, float]
    hops_per_mac: dict[str, float]
    stationary_writes: tuple[float, float]  # (per row, constant) per stationary element loaded
    stationary_hops: tuple[float, float]
    output_writes: tuple[float, float]  # per output drained through the array
    output_hops: tuple[float, float]

    @staticmethod
    def linear(expr: tuple[float, float], rows: int) -> float:
        return expr[0] * rows + expr[1]


@lru_cache(maxsize=None)
def dataflow_spec(dataflow: Dataflow) -> DataflowSpec:
    doc: dict[str, Any] = json.loads(resources.files("dataflows").joinpath(f"{dataflow.value}.json").read_text())
    pair = lambda d: (float(d["rows"]), float(d["const"]))  # noqa: E731
    return DataflowSpec(
        name=doc["name"], stationary=doc["stationary"], pe_registers=dict(doc["pe_registers"]),
        reads_per_mac=dict(doc["per_mac"]["register_reads"]), writes_per_mac=dict(doc["per_mac"]["register_writes"]),
        hops_per_mac=dict(doc["per_mac"]["hops"]),
        stationary_writes=pair(doc["per_stationary_element"]["register_writes"]),
        stationary_hops=pair(doc["per_stationary_element"]["hops"]),
        output_writes=pair(doc["per_output"]["register_writes"]), output_hops=pair(doc["per_output"]["hops"]),
    )
