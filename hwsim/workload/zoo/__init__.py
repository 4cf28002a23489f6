"""The DNNs of the papers hwsim follows, as Python builders.

Each module defines builder functions (no arguments, returning a :class:`Network`) and a
``NETWORKS`` dict mapping the workload name to its builder. ``workloads/<name>.json`` is the
output of the builder, written by ``python -m hwsim.io.zoo`` and checked by a test.
The published MAC and parameter counts each network is tested against, with their sources
and tolerances, are in ``published.json`` beside this file.
"""

from __future__ import annotations

from typing import Callable

from hwsim.errors import InputError
from hwsim.workload.network import Network

from hwsim.workload.zoo import mobilenet, resnet, densenet, vgg, alexnet, unet, transformer

ZOO: dict[str, Callable[[], Network]] = {
    **mobilenet.NETWORKS,
    **resnet.NETWORKS,
    **densenet.NETWORKS,
    **vgg.NETWORKS,
    **alexnet.NETWORKS,
    **unet.NETWORKS,
    **transformer.NETWORKS,
}
"""Workload name -> builder."""


def build(name: str) -> Network:
    """Build a zoo network by name."""
    try:
        builder = ZOO[name]
    except KeyError:
        raise InputError(f"unknown network (known: {', '.join(sorted(ZOO))})", field="network", value=name) from None
    return builder()
