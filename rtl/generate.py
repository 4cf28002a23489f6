# amaranth: UnusedElaboratable=no
"""Write a component's Verilog and a JSON sidecar describing its ports.

:func:`generate` is what ``hwsim rtl generate`` runs: it builds :class:`rtl.systolic.SystolicGemm` for a
:class:`~hwsim.arch.SystolicArray` and writes ``systolic_<R>x<C>_<df>.v`` (top module named like the file stem)
next to ``systolic_<R>x<C>_<df>.json``. The sidecar is derived from the component's ``wiring.Signature``, the
same walk Amaranth's back-end does to choose the Verilog ports, so the two cannot drift apart:

.. code-block:: json

    {"module": "systolic_4x4_ws", "rows": 4, "cols": 4, "dataflow": "ws",
     "max_m": 64, "max_n": 64, "max_k": 64,
     "ports": [{"name": "start", "direction": "in", "width": 1, "signed": false, "shape": null},
               {"name": "ifmap_lane", "direction": "out", "width": 13, "signed": true, "shape": 4}, ...],
     "clock": "clk", "reset": "rst"}

For an array port (an ``amaranth.lib.data.ArrayLayout`` member) ``width`` and ``signed`` describe ONE lane and
``shape`` is the number of lanes; the Verilog port is a flat ``width * shape``-bit vector with lane ``l`` in bits
``[l*width, (l+1)*width)``. For any other port ``shape`` is null and ``width`` is the Verilog port width.
``clk`` and ``rst`` are the ports Amaranth adds for the ``sync`` domain (rising edge, active-high synchronous
reset); they are not signature members, so they are named separately.

:func:`write_design` is the component-agnostic part (tested on :class:`rtl.counter.Counter`); nothing here keeps
state between calls.

(The first line turns off Amaranth's "created but never used" warning for elaboratables made in this file:
:func:`generate` converts every component it builds at once, so the warning could only fire for a constructor
that raised, e.g. on a non-int8 precision, where it is noise after the real error.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from amaranth.hdl import Shape
from amaranth.lib import data, wiring

from hwsim.arch.systolic import SystolicArray
from rtl.systolic import SystolicGemm
from rtl.toolchain import emit_verilog, write_if_changed

__all__ = ["design_stem", "generate", "port_table", "write_design"]

#: Port names Amaranth gives the implicit ``sync`` domain's clock and reset.
CLOCK = "clk"
RESET = "rst"


def port_table(component: wiring.Component) -> list[dict[str, Any]]:
    """Describe the Verilog ports a component's signature turns into, in signature order.

    Parameters
    ----------
    component
        A ``wiring.Component`` (anything with a ``wiring.Signature`` as ``signature``).

    Returns
    -------
    list of dict
        One ``{"name", "direction", "width", "signed", "shape"}`` per port. ``name`` is the member path joined
        with ``"__"``, exactly as ``amaranth.back.verilog.convert`` names the port; ``direction`` is ``"in"`` or
        ``"out"`` seen from the component. See the module docstring for ``width``/``shape`` of array ports.

    Raises
    ------
    TypeError
        If ``component`` has no ``wiring.Signature``.
    """
    signature = getattr(component, "signature", None)
    if not isinstance(signature, wiring.Signature):
        raise TypeError(f"expected a wiring.Component with a wiring.Signature, got {type(component).__name__}")
    ports = []
    # Signature.flatten is the walk the Verilog back-end does (verilog.convert with ports=None), so names and
    # order match the emitted module; it expands sub-signatures and .array() dimensions into separate ports.
    for path, member, _value in signature.flatten(component):
        shape = member.shape
        if isinstance(shape, data.ArrayLayout):
            # One lane's shape; a lane that is itself a layout is described as its raw bits (unsigned).
            lane = Shape.cast(shape.elem_shape)
            width, signed, lanes = lane.width, lane.signed, shape.length
        else:
            # Shape.cast also accepts layouts and enums (their underlying bits).
            plain = Shape.cast(shape)
            width, signed, lanes = plain.width, plain.signed, None
        ports.append({
            "name": "__".join(map(str, path)),
            "direction": "in" if member.flow == wiring.In else "out",
            "width": width,
            "signed": signed,
            "shape": lanes,
        })
    return ports


def write_design(component: wiring.Component, out_dir: Path | str, stem: str,
                 meta: Mapping[str, Any] | None = None) -> tuple[Path, Path]:
    """Write ``<stem>.v`` (top module ``stem``) and the sidecar ``<stem>.json`` into ``out_dir``.

    Files whose contents did not change are left untouched (:func:`rtl.toolchain.write_if_changed`), so a
    Verilator build that uses them is not redone just because they were regenerated.

    Parameters
    ----------
    component
        The design to convert.
    out_dir
        Destination folder; created (with parents) if missing.
    stem
        File stem and Verilog module name; must be a plain Verilog identifier.
    meta
        Extra sidecar fields, written after ``"module"`` and before ``"ports"`` in the given order; they must
        not reuse the keys ``module``, ``ports``, ``clock`` or ``reset``.

    Returns
    -------
    tuple of Path
        The Verilog file and the sidecar file.

    Raises
    ------
    ValueError
        If ``stem`` is not a Verilog identifier or ``meta`` reuses a reserved key.
    """
    if not stem.isidentifier() or not stem.isascii():
        raise ValueError(f"module name must be a plain Verilog identifier, got {stem!r}")
    meta = dict(meta or {})
    clash = sorted({"module", "ports", "clock", "reset"} & meta.keys())
    if clash:
        raise ValueError(f"sidecar fields {clash} are reserved")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # Signature first: it does not elaborate, so a bad signature fails before the slower Yosys call.
    sidecar = {"module": stem, **meta, "ports": port_table(component), "clock": CLOCK, "reset": RESET}
    verilog_path = out / f"{stem}.v"
    json_path = out / f"{stem}.json"
    write_if_changed(verilog_path, emit_verilog(component, stem))
    write_if_changed(json_path, json.dumps(sidecar, indent=2) + "\n")
    return verilog_path, json_path


def design_stem(rows: int, cols: int, dataflow: str) -> str:
    """The file stem and module name of a systolic engine: ``systolic_<R>x<C>_<df>``."""
    return f"systolic_{rows}x{cols}_{dataflow}"


def generate(arch: SystolicArray, out_dir: Path | str, *, max_m: int, max_n: int, max_k: int) -> tuple[Path, Path]:
    """Write the Verilog of the systolic GEMM engine for ``arch`` and its JSON sidecar.

    Parameters
    ----------
    arch
        A :class:`hwsim.arch.SystolicArray` (rows, cols, dataflow ws/is/os, int8 precision).
    out_dir
        Destination folder; created if missing.
    max_m, max_n, max_k
        Largest GEMM sizes the operand memories hold (see :class:`rtl.systolic.SystolicGemm`).

    Returns
    -------
    tuple of Path
        ``<out_dir>/systolic_<R>x<C>_<df>.v`` and ``<out_dir>/systolic_<R>x<C>_<df>.json``.

    Raises
    ------
    ValueError
        From :class:`~rtl.systolic.SystolicGemm` for an unsupported configuration (e.g. a non-int8 precision).
    """
    component = SystolicGemm(arch, max_m=max_m, max_n=max_n, max_k=max_k)
    stem = design_stem(arch.rows, arch.cols, arch.dataflow.value)
    meta = {"rows": arch.rows, "cols": arch.cols, "dataflow": arch.dataflow.value,
            "max_m": max_m, "max_n": max_n, "max_k": max_k}
    return write_design(component, out_dir, stem, meta)
