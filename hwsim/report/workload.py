"""What a workload is, before any hardware: the layer table of ``hwsim info``."""

from __future__ import annotations

from typing import Any

from hwsim.workload.network import Network

LAYER_COLUMNS = ("Layer", "Kind", "Input shape", "Output shape", "M", "N", "K", "Repeat", "MACs", "Params")


def layer_rows(network: Network) -> list[dict[str, Any]]:
    """One row per layer in topological order, then a ``total`` row."""
    rows: list[dict[str, Any]] = []
    for s in network:
        g = s.gemm
        rows.append({
            "Layer": s.name,
            "Kind": s.kind,
            "Input shape": " ".join("x".join(map(str, shape)) for shape in s.input_shapes),
            "Output shape": "x".join(map(str, s.output_shape)),
            "M": g.m if g else None,
            "N": g.n if g else None,
            "K": g.k if g else None,
            "Repeat": g.repeat if g else None,
            "MACs": s.macs,
            "Params": s.params,
        })
    rows.append({"Layer": "total", "MACs": network.macs, "Params": network.params})
    return rows


def network_summary(network: Network) -> dict[str, Any]:
    return {
        "Network": network.name,
        "Layers": len(network),
        "Compute layers": sum(1 for s in network if s.gemm is not None),
        "MACs": network.macs,
        "Params": network.params,
        "Batch": network.batch,
        "Datatype bits": network.datatype_bits,
        "Source": network.source,
    }
