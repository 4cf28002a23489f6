"""Network search spaces: a family, the arguments held fixed, and the arguments chosen.

A :class:`NetworkSpace` maps a point of its :attr:`~NetworkSpace.space` to builder arguments and
builds the network (:meth:`NetworkSpace.build`). A choice is named after the argument it sets:
``depth`` sets the whole argument, ``channels[1]`` one entry of a tuple argument (the rest come
from ``fixed`` or the family's defaults). Files in this form are read by
:func:`hwsim.io.netspace_json.read_netspace`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from hwsim.errors import InputError
from hwsim.explore.space import Choice, Space
from hwsim.workload.families import FAMILIES, Family, Param, family as get_family
from hwsim.workload.network import Network

_CHOICE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(0|[1-9][0-9]*)\])?")


@dataclass(frozen=True)
class NetworkSpace:
    """The networks of one family that a co-exploration may pick from.

    Parameters
    ----------
    family
        A key of :data:`hwsim.workload.families.FAMILIES` (``"resnet9"``, ``"unet"``).
    name
        Names the space and prefixes the names of the networks it builds (e.g. ``"resnet9_cifar10"``).
    fixed
        Builder arguments held fixed (others keep the family's defaults). Lists become tuples.
    space
        The choices. Each is named ``arg`` (the whole argument) or ``arg[i]`` (entry ``i`` of a
        tuple argument); an argument cannot be both fixed and chosen whole, nor chosen both whole
        and by entry. Options are checked against the argument's kind and normalised.
    source
        Where the space comes from; mark every fact as [paper] or [assumed].
    """

    family: str
    name: str
    fixed: Mapping[str, Any]
    space: Space
    source: str

    def __post_init__(self) -> None:
        fam = get_family(self.family)
        for attr in ("name", "source"):
            value = getattr(self, attr)
            if not isinstance(value, str) or not value.strip():
                raise InputError("must be a non-empty string", field=attr, value=value)
        if not isinstance(self.fixed, Mapping):
            raise InputError("must be an object of builder arguments", field="fixed", value=self.fixed)
        fixed = {}
        for arg, value in self.fixed.items():
            fixed[arg] = _param(fam, arg, f"fixed.{arg}").check(f"fixed.{arg}", value)
        if not isinstance(self.space, Space):
            raise InputError("must be a Space", field="space", value=self.space)
        base = {**fam.defaults, **fixed}
        whole: set[str] = set()
        by_entry: set[str] = set()
        choices = []
        for choice in self.space.choices:
            field = f"choices.{choice.name}"
            match = _CHOICE.fullmatch(choice.name)
            if match is None:
                raise InputError("must be an argument name or name[index]", field=field)
            arg, index = match.group(1), match.group(2)
            param = _param(fam, arg, field)
            if index is None:
                if arg in fixed:
                    raise InputError("is both fixed and a choice", field=field)
                options = tuple(param.check(field, option) for option in choice.options)
                whole.add(arg)
            else:
                current = base[arg]
                if not param.many or not isinstance(current, tuple):
                    raise InputError(f"{arg!r} is not a list argument here, so it has no entries", field=field)
                if int(index) >= len(current):
                    raise InputError(f"{arg!r} has {len(current)} entries (0..{len(current) - 1})", field=field,
                                     value=int(index))
                options = tuple(param.check_item(field, option) for option in choice.options)
                by_entry.add(arg)
            choices.append(Choice(choice.name, options))
        both = sorted(whole & by_entry)
        if both:
            raise InputError("is chosen both whole and by entry", field=f"choices.{both[0]}")
        object.__setattr__(self, "fixed", fixed)
        object.__setattr__(self, "space", Space(tuple(choices)))

    @property
    def family_spec(self) -> Family:
        """The :class:`~hwsim.workload.families.Family` this space builds from."""
        return FAMILIES[self.family]

    def subpoint(self, point: Mapping[str, Any], *, prefix: str = "") -> dict[str, Any]:
        """This space's part of ``point``: ``{choice: point[prefix + choice]}`` (other keys ignored)."""
        try:
            return {name: point[prefix + name] for name in self.space.names}
        except KeyError as err:
            raise InputError(f"is missing from the point (a choice of network space {self.name!r})",
                             field=err.args[0]) from None

    def args(self, point: Mapping[str, Any], *, prefix: str = "") -> dict[str, Any]:
        """The builder arguments at ``point`` (``name`` and ``source`` excluded)."""
        sub = self.subpoint(point, prefix=prefix)
        self.space.indices(sub)  # every option must be one of the space's
        args = {**self.family_spec.defaults, **self.fixed}
        for name, value in sub.items():
            match = _CHOICE.fullmatch(name)
            arg, index = match.group(1), match.group(2)
            if index is None:
                args[arg] = value
            else:
                entries = list(args[arg])
                entries[int(index)] = value
                args[arg] = tuple(entries)
        return args

    def network_name(self, point: Mapping[str, Any], *, prefix: str = "") -> str:
        """``name(choice=option, ...)``, the name :meth:`build` gives the network."""
        sub = self.subpoint(point, prefix=prefix)
        return f"{self.name}(" + ", ".join(f"{k}={_format(v)}" for k, v in sub.items()) + ")"

    def build(self, point: Mapping[str, Any], *, prefix: str = "") -> Network:
        """The network at ``point``, named by its choices.

        A combination the family refuses (e.g. a skip connection on a stage without a branch) is an
        :class:`InputError` naming the argument and the network.
        """
        args = self.args(point, prefix=prefix)
        name = self.network_name(point, prefix=prefix)
        source = f"network space {self.name!r} ({self.source}); family {self.family}: " + ", ".join(
            f"{k}={_format(v)}" for k, v in args.items() if v is not None)
        try:
            return self.family_spec.builder(**args, name=name, source=source)
        except InputError as err:
            raise InputError(f"{err.problem} (in network {name})", field=err.field, value=err.value,
                             layer=err.layer) from None

    def reference(self) -> Network:
        """The network of the fixed arguments and the family's defaults, with no choice applied."""
        args = {**self.family_spec.defaults, **self.fixed}
        return self.family_spec.builder(**args, name=f"{self.name}(reference)", source=self.source)


def _param(fam: Family, arg: str, field: str) -> Param:
    try:
        return fam.params[arg]
    except KeyError:
        raise InputError(f"is not an argument of the {fam.name} family (arguments: {', '.join(fam.params)})",
                         field=field) from None


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, tuple):
        return "[" + ",".join(_format(v) for v in value) + "]"
    return str(value)
