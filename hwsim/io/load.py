"""One entry point for every way a user names a workload, and one for any hwsim document by its format."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from hwsim.errors import InputError
from hwsim.workload.network import Network


def load_workload(spec: str | Path) -> Network:
    """Load ``spec``: a workload ``.json``, a SCALE-Sim topology ``.csv``, an ``.onnx`` model, or the
    name of a bundled network (``hwsim workloads`` lists them)."""
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix == ".json":
        from hwsim.io.workload_json import load_network

        return load_network(path)
    if suffix == ".csv":
        from hwsim.io.scalesim_csv import read_topology

        return read_topology(path)
    if suffix == ".onnx":
        from hwsim.io.onnx_import import read_onnx

        return read_onnx(path)
    from hwsim.workload.zoo import ZOO, build

    if str(spec) in ZOO:
        return build(str(spec))
    raise InputError(
        f"expected a .json workload, a SCALE-Sim .csv, an .onnx model or a bundled network "
        f"({', '.join(sorted(ZOO))})", field="workload", value=str(spec),
    )


def readers() -> dict[str, Callable[[Path], object]]:
    """The reader of each document format, from a path to the format's description."""
    from hwsim.io.arch_config import read_arch_json
    from hwsim.io.dataflow_spec import read_dataflow
    from hwsim.io.explore_json import read_explore_spec
    from hwsim.io.netspace_json import read_netspace
    from hwsim.io.sweep_json import load_sweep
    from hwsim.io.tech import load_technology, read_maestro, read_scaling
    from hwsim.io.template_spec import load_template
    from hwsim.io.workload_json import load_network

    return {
        "hwsim-workload": load_network, "hwsim-systolic-array": read_arch_json, "hwsim-sweep": load_sweep,
        "hwsim-explore": read_explore_spec, "hwsim-netspace": read_netspace, "hwsim-template": load_template,
        "hwsim-dataflow": read_dataflow, "hwsim-tech": load_technology, "hwsim-tech-scaling": read_scaling,
        "hwsim-maestro-cost": read_maestro,
    }


def load_file(path: str | Path) -> object:
    """Any hwsim document, read by the reader of its ``format`` into its description (a :class:`Network`, a
    :class:`~hwsim.arch.systolic.SystolicArray`, a sweep, a template, a technology, ...)."""
    from hwsim.io.document import VERSIONS, read_document

    document = read_document(path, expect=tuple(VERSIONS))
    return readers()[document.format](Path(path))
