"""One entry point for every way a user names a workload."""

from __future__ import annotations

from pathlib import Path

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
