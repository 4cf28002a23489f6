"""Parameterised network families: the networks a co-exploration searches over.

:func:`resnet9` and :func:`unet` build a network from hyper-parameters (channel counts, depth,
skip connections, input size, classes). Their default arguments build the zoo's
``resnet9_cifar`` and ``unet_nuclei`` layer for layer; the zoo calls these builders, so the two
cannot drift apart. :data:`FAMILIES` describes each family's arguments for search-space files
(:mod:`hwsim.io.netspace_json`): which arguments exist, what values each may take.

Argument checks name the argument as a search-space file does: ``channels[1]`` is the second
entry of ``channels``.
"""

from __future__ import annotations

import inspect
from typing import Callable, Mapping, Sequence

from hwsim.errors import InputError
from hwsim.workload.builder import NetworkBuilder
from hwsim.workload.layers import ACTIVATIONS
from hwsim.workload.network import Network
from hwsim.types import Record, record

KINDS = ("count", "count0", "flag", "activation")
"""Value kinds of family arguments: a whole number >= 1, a whole number >= 0, a boolean, or an
activation name (or ``None`` for none)."""


@record
class Param(Record):
    """One argument of a family builder.

    Parameters
    ----------
    kind
        One of :data:`KINDS`; the kind of the value, or of every entry when ``many``.
    many
        The argument is a tuple of such values.
    length
        The tuple's fixed length, or ``None`` when it depends on other arguments.
    optional
        ``None`` is accepted (the builder then derives the value).
    """

    kind: str
    many: bool = False
    length: int | None = None
    optional: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"must be one of {', '.join(KINDS)}", field="kind", value=self.kind)

    def check_item(self, field: str, value: object) -> object:
        """One scalar value of this kind, or an :class:`InputError` naming ``field``."""
        if self.kind == "flag":
            if not isinstance(value, bool):
                raise InputError("must be true or false", field=field, value=value)
            return value
        if self.kind == "activation":
            if value is not None and value not in ACTIVATIONS:
                raise InputError(f"must be null or one of {', '.join(ACTIVATIONS)}", field=field, value=value)
            return value
        minimum = 1 if self.kind == "count" else 0
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise InputError(f"must be a whole number >= {minimum}", field=field, value=value)
        return int(value)

    def check(self, field: str, value: object) -> object:
        """The value checked and normalised (lists become tuples), or an :class:`InputError`."""
        if value is None and self.optional:
            return None
        if not self.many:
            return self.check_item(field, value)
        if not isinstance(value, (list, tuple)):
            raise InputError("must be a list", field=field, value=value)
        if self.length is not None and len(value) != self.length:
            raise InputError(f"must list {self.length} values", field=field, value=value)
        if not value:
            raise InputError("must list at least one value", field=field, value=value)
        return tuple(self.check_item(f"{field}[{i}]", item) for i, item in enumerate(value))


def _checked(params: Mapping[str, Param], args: Mapping[str, object]) -> dict[str, object]:
    return {name: params[name].check(name, value) for name, value in args.items()}


# -- ResNet-9 -----------------------------------------------------------------------------------

RESNET9_SOURCE = (
    "D. Page, 'How to Train Your ResNet 4: Architecture', Myrtle.ai blog, 2018; davidcpage/cifar10-fast dawn.py "
    "net() (prep conv, three stages of conv + 2x2 max pool with residual branches on stages 1 and 3, global max "
    "pool, bias-free linear); channel counts, branch depths, skip connections and input size as parameters"
)

RESNET9_PARAMS: dict[str, Param] = {
    "channels": Param("count", many=True, length=4),
    "depth": Param("count0", many=True, length=3),
    "skip": Param("flag", many=True, length=3),
    "input_size": Param("count"),
    "in_channels": Param("count"),
    "classes": Param("count"),
}
"""The arguments of :func:`resnet9` a search space may fix or choose."""


def resnet9(
    *,
    channels: Sequence[int] = (64, 128, 256, 512),
    depth: Sequence[int] = (2, 0, 2),
    skip: Sequence[bool] = (True, False, True),
    input_size: int = 32,
    in_channels: int = 3,
    classes: int = 10,
    name: str = "resnet9",
    source: str | None = None,
) -> Network:
    """A ResNet-9 in the style of Page's DAWNBench CIFAR-10 network.

    A prep 3x3 conv, then three stages, each a 3x3 conv, a 2x2 max pool and a branch of ``depth``
    3x3 convs at the stage's width, whose output is added to its input when ``skip`` is on; a max
    pool over the whole remaining map and a bias-free linear classifier. Every conv is 3x3, pad 1,
    no bias, with BN and ReLU (Page's ``conv_bn``). The defaults are Page's network on 32x32 CIFAR-10,
    the zoo's ``resnet9_cifar``.

    Parameters
    ----------
    channels
        Output channels of the prep conv and of stages 1-3.
    depth
        3x3 convs in each stage's branch after the pool (0: no branch).
    skip
        Whether each stage's branch is a residual (its output added to its input). A skip needs a
        branch (``depth >= 1``).
    input_size
        Height and width of the square input image; a multiple of 8 (three 2x2 pools). 32 for
        CIFAR-10, 96 for STL-10.
    in_channels, classes
        Input image channels and classifier outputs.
    name, source
        The network's name and where it comes from (by default, a description of this family).

    Returns
    -------
    Network
        Layers named as in dawn.py: ``prep.conv``, ``layer1.conv``, ``layer1.pool``,
        ``layer1.residual.res1.conv``, ``layer1.residual.add``, ..., ``pool``, ``linear``. A branch
        without a skip is named ``layerN.plain.resK.conv``.
    """
    a = _checked(RESNET9_PARAMS, dict(channels=channels, depth=depth, skip=skip, input_size=input_size,
                                      in_channels=in_channels, classes=classes))
    for i, (convs, residual) in enumerate(zip(a["depth"], a["skip"])):
        if residual and convs == 0:
            raise InputError(f"a skip connection needs a branch, but depth[{i}] is 0", field=f"skip[{i}]",
                             value=True)
    size = a["input_size"]
    if size % 8:
        raise InputError("must be a multiple of 8 (three 2x2 max pools)", field="input_size", value=size)
    b = NetworkBuilder(name, source=source or f"{RESNET9_SOURCE}: {_describe(a)}",
                       inputs={"image": (a["in_channels"], size, size)})

    def conv_bn(prefix: str, x: str, width: int) -> str:
        return b.conv(f"{prefix}.conv", x, width, 3, padding=1, batchnorm=True, activation="relu")

    x = conv_bn("prep", "image", a["channels"][0])
    for stage, (width, convs, residual) in enumerate(zip(a["channels"][1:], a["depth"], a["skip"]), start=1):
        prefix = f"layer{stage}"
        x = b.pool(f"{prefix}.pool", conv_bn(prefix, x, width), "max", 2)
        branch = f"{prefix}.residual" if residual else f"{prefix}.plain"
        out = x
        for j in range(1, convs + 1):
            out = conv_bn(f"{branch}.res{j}", out, width)
        x = b.eltwise(f"{branch}.add", [x, out], "add") if residual else out
    # Page's MaxPool(4) covers the whole 4x4 map of a 32x32 input: a global max pool at any size.
    x = b.pool("pool", x, "max", size // 8)
    # Page's final Mul(0.125) scales the logits by a constant; it folds into the linear weights.
    b.fc("linear", x, a["classes"])
    return b.build()


# -- U-Net --------------------------------------------------------------------------------------

UNET_SOURCE = (
    "Ronneberger, Fischer & Brox, 'U-Net: Convolutional Networks for Biomedical Image Segmentation', MICCAI 2015; "
    "depth (down levels), filters per level, padding, activations, input size and classes as parameters"
)

UNET_PARAMS: dict[str, Param] = {
    "depth": Param("count"),
    "base_filters": Param("count"),
    "filters": Param("count", many=True, optional=True),
    "input_size": Param("count"),
    "in_channels": Param("count"),
    "classes": Param("count"),
    "same_padding": Param("flag"),
    "skip_first": Param("flag"),
    "activation": Param("activation"),
    "output_activation": Param("activation"),
}
"""The arguments of :func:`unet` a search space may fix or choose."""


def double_conv(b: NetworkBuilder, prefix: str, x: str, channels: int, padding: int, activation: str | None) -> str:
    """Two 3x3 convolutions with bias, ``{prefix}.conv1`` and ``{prefix}.conv2``."""
    for i in (1, 2):
        x = b.conv(f"{prefix}.conv{i}", x, channels, 3, padding=padding, bias=True, activation=activation)
    return x


def unet_layers(b: NetworkBuilder, x: str, widths: Sequence[int], *, padding: int, activation: str | None,
                skip_first: bool, crop: bool) -> str:
    """Add a U-Net's layers to ``b`` and return its last 3x3 conv.

    The contracting path (two 3x3 convs, then a 2x2 max pool, per level), the bottom level, and
    the expansive path (a 2x2 stride-2 up-convolution to the level's width, concatenation with the
    level's skip connection, two 3x3 convs). ``widths`` are the levels' channels from the top;
    levels are numbered from the top (``enc1``, ``pool1``, ..., ``up1``, ``cat1``, ``dec1``).
    """
    skips = []
    for level, channels in enumerate(widths[:-1], start=1):
        skips.append(double_conv(b, f"enc{level}", x, channels, padding, activation))
        x = b.pool(f"pool{level}", skips[-1], "max", 2)
    x = double_conv(b, f"enc{len(widths)}", x, widths[-1], padding, activation)
    for level in range(len(widths) - 1, 0, -1):
        channels = widths[level - 1]
        up = b.conv_transpose(f"up{level}", x, channels, 2, stride=2, bias=True)
        pair = [skips[level - 1], up] if skip_first else [up, skips[level - 1]]
        x = b.concat(f"cat{level}", pair, crop=crop)
        x = double_conv(b, f"dec{level}", x, channels, padding, activation)
    return x


def unet(
    *,
    depth: int = 4,
    base_filters: int = 16,
    filters: Sequence[int] | None = None,
    input_size: int = 128,
    in_channels: int = 3,
    classes: int = 1,
    same_padding: bool = True,
    skip_first: bool = False,
    activation: str | None = "elu",
    output_activation: str | None = "sigmoid",
    name: str = "unet",
    source: str | None = None,
) -> Network:
    """A U-Net of ``depth`` down levels, ending in a 1x1 convolution to ``classes`` channels.

    The defaults are the small nuclei-segmentation U-Net of the Kaggle Data Science Bowl 2018 (the
    zoo's ``unet_nuclei``: 128x128x3 in, widths 16-256, 'same' padding, ELU, sigmoid output).

    Parameters
    ----------
    depth
        Down levels (2x2 max pools); the network has ``depth + 1`` levels.
    base_filters
        Channels of the top level; each level below doubles them (16 -> 16, 32, 64, 128, 256).
    filters
        Channels of every level from the top (``depth + 1`` values), instead of ``base_filters``.
    input_size
        Height and width of the square input. With 'same' padding a multiple of ``2**depth``.
    in_channels, classes
        Input channels and output channels of the final 1x1 convolution.
    same_padding
        Pad the 3x3 convolutions (keep sizes); off, they are unpadded and the skip connections are
        centre-cropped before concatenation (Ronneberger et al.'s copy-and-crop).
    skip_first
        Concatenate the skip connection before the up-sampled map (Ronneberger et al.'s order)
        rather than after it (the Keras starter's order).
    activation, output_activation
        Activation of the 3x3 convolutions and of the output convolution (``None`` for none).
    name, source
        The network's name and where it comes from (by default, a description of this family).
    """
    a = _checked(UNET_PARAMS, dict(depth=depth, base_filters=base_filters, filters=filters, input_size=input_size,
                                   in_channels=in_channels, classes=classes, same_padding=same_padding,
                                   skip_first=skip_first, activation=activation,
                                   output_activation=output_activation))
    levels = a["depth"] + 1
    if a["filters"] is None:
        widths = tuple(a["base_filters"] << level for level in range(levels))
    elif len(a["filters"]) != levels:
        raise InputError(f"must list depth + 1 = {levels} widths", field="filters", value=list(a["filters"]))
    else:
        widths = a["filters"]
    size = a["input_size"]
    if a["same_padding"] and size % (1 << a["depth"]):
        raise InputError(f"must be a multiple of 2**depth = {1 << a['depth']} (one 2x2 pool per level)",
                         field="input_size", value=size)
    b = NetworkBuilder(name, source=source or f"{UNET_SOURCE}: {_describe(a)}",
                       inputs={"image": (a["in_channels"], size, size)})
    x = unet_layers(b, "image", widths, padding=1 if a["same_padding"] else 0, activation=a["activation"],
                    skip_first=a["skip_first"], crop=not a["same_padding"])
    b.conv("out", x, a["classes"], 1, bias=True, activation=a["output_activation"])
    return b.build()


def _describe(args: Mapping[str, object]) -> str:
    return ", ".join(f"{k}={_format(v)}" for k, v in args.items() if v is not None)


def _format(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ",".join(_format(v) for v in value) + "]"
    return str(value)


# -- registry -----------------------------------------------------------------------------------

@record
class Family(Record):
    """A network family: its builder and the arguments a search space may set.

    ``builder`` is called with keyword arguments only; ``name`` and ``source`` are set by whoever
    builds (a :class:`hwsim.explore.netspace.NetworkSpace` names a network by its choices).
    """

    name: str
    builder: Callable[..., Network]
    params: Mapping[str, Param]
    defaults: Mapping[str, object]


def _defaults(builder: Callable[..., Network], params: Mapping[str, Param]) -> dict[str, object]:
    signature = inspect.signature(builder)
    return {name: params[name].check(name, signature.parameters[name].default) for name in params}


FAMILIES: dict[str, Family] = {
    "resnet9": Family("resnet9", resnet9, RESNET9_PARAMS, _defaults(resnet9, RESNET9_PARAMS)),
    "unet": Family("unet", unet, UNET_PARAMS, _defaults(unet, UNET_PARAMS)),
}
"""Family name -> :class:`Family`."""


def family(name: str) -> Family:
    """The family called ``name``; an unknown name lists the known ones."""
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise InputError(f"unknown network family (known: {', '.join(sorted(FAMILIES))})", field="family",
                         value=name) from None
