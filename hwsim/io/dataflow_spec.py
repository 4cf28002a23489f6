"""The declarative dataflow files of ``dataflows/`` (format ``hwsim-dataflow``): what moves inside the array per
MAC, read into :class:`hwsim.cost.actions.DataflowSpec`.

``dataflows/`` also holds the sub-accelerator templates (format ``hwsim-template``, :mod:`hwsim.io.template_spec`);
a dataflow's file is named after its :class:`~hwsim.types.Dataflow` value (``ws.json``, ``os.json``, ``is.json``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from hwsim.cost.actions import OPERANDS, STATIONARY, DataflowSpec
from hwsim.io.checks import keys, number, one_of, string, whole
from hwsim.io.document import bundled, read_document
from hwsim.types import Dataflow

FORMAT = "hwsim-dataflow"
_KEYS = ("format", "version", "name", "description", "stationary", "pe_registers", "per_mac",
         "per_stationary_element", "per_output")
_PER_MAC = ("register_reads", "register_writes", "hops")
_LINEAR = ("register_writes", "hops")


def read_dataflow(source: str | Path | Mapping[str, Any], *, file: str | None = None) -> DataflowSpec:
    """A dataflow file (or its parsed document), checked field by field."""
    doc = read_document(source, expect=FORMAT, file=file)
    with doc.located():
        return _dataflow(doc.body)


@lru_cache(maxsize=None)
def bundled_dataflows() -> dict[str, DataflowSpec]:
    """Every dataflow with a file in ``dataflows/``, by name (a :class:`~hwsim.types.Dataflow` value)."""
    folder = bundled("dataflows")
    return {d.value: read_dataflow(folder.joinpath(f"{d.value}.json"), file=f"dataflows/{d.value}.json")
            for d in Dataflow if folder.joinpath(f"{d.value}.json").is_file()}


def _dataflow(doc: Mapping[str, Any]) -> DataflowSpec:
    keys(doc, _KEYS, required=_KEYS)
    per_mac = keys(doc["per_mac"], _PER_MAC, field="per_mac", required=_PER_MAC)
    stationary = keys(doc["per_stationary_element"], _LINEAR, field="per_stationary_element", required=_LINEAR)
    output = keys(doc["per_output"], _LINEAR, field="per_output", required=_LINEAR)
    return DataflowSpec(
        name=string(doc["name"], "name"), stationary=one_of(doc["stationary"], "stationary", STATIONARY),
        pe_registers={k: whole(v, f"pe_registers.{k}", minimum=0)
                      for k, v in _by_operand(doc["pe_registers"], "pe_registers").items()},
        reads_per_mac=_counts(per_mac["register_reads"], "per_mac.register_reads"),
        writes_per_mac=_counts(per_mac["register_writes"], "per_mac.register_writes"),
        hops_per_mac=_counts(per_mac["hops"], "per_mac.hops"),
        stationary_writes=_linear(stationary["register_writes"], "per_stationary_element.register_writes"),
        stationary_hops=_linear(stationary["hops"], "per_stationary_element.hops"),
        output_writes=_linear(output["register_writes"], "per_output.register_writes"),
        output_hops=_linear(output["hops"], "per_output.hops"),
    )


def _by_operand(value: Any, field: str) -> Mapping[str, Any]:
    return keys(value, OPERANDS, field=field)


def _counts(value: Any, field: str) -> dict[str, float]:
    return {k: number(v, f"{field}.{k}") for k, v in _by_operand(value, field).items()}


def _linear(value: Any, field: str) -> tuple[float, float]:
    expr = keys(value, ("rows", "const"), field=field, required=("rows", "const"))
    return number(expr["rows"], f"{field}.rows"), number(expr["const"], f"{field}.const")
