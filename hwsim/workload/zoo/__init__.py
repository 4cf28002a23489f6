"""The DNNs of the papers hwsim follows, as Python builders.

Each module defines builder functions (no arguments, returning a :class:`Network`), each named after the workload
it builds; :data:`ZOO` lists them. ``workloads/<name>.json`` is the
output of the builder, written by ``python -m hwsim.io.zoo`` and checked by a test.
The published MAC and parameter counts each network is tested against, with their sources
and tolerances, are in ``published.json`` beside this file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping

from hwsim.errors import InputError
from hwsim.workload.network import Network

_MODULES = {
    "mobilenet_v1": "mobilenet",
    "mobilenet_v2": "mobilenet",
    "mobilenet_v3_large": "mobilenet",
    "resnet18": "resnet",
    "resnet50": "resnet",
    "resnet18_cifar": "resnet",
    "resnet9_cifar": "resnet",
    "resnet9_stl10": "resnet",
    "densenet121": "densenet",
    "vgg16": "vgg",
    "vgg16_cifar": "vgg",
    "alexnet": "alexnet",
    "unet": "unet",
    "unet_nuclei": "unet",
    "bert_base": "transformer",
    "vit_b16": "transformer",
}
"""Workload name -> the module of this package whose function of that name builds it."""


class _Zoo(Mapping[str, Callable[[], Network]]):
    """Workload name -> builder; a builder's module is imported when the builder is first asked for, so naming one
    bundled network on the command line does not import the others (start-up time)."""

    def __getitem__(self, name: str) -> Callable[[], Network]:
        return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


ZOO: Mapping[str, Callable[[], Network]] = _Zoo()
"""Workload name -> builder."""


def build(name: str) -> Network:
    """Build a zoo network by name."""
    try:
        builder = ZOO[name]
    except KeyError:
        raise InputError(f"unknown network (known: {', '.join(sorted(ZOO))})", field="network", value=name) from None
    return builder()
