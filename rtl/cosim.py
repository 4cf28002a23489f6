"""Co-simulation: run GEMMs on the generated engine under Verilator and set its cycles beside the models'.

:func:`run_gemms` is what ``hwsim rtl compare``, ``hwsim.api.rtl_compare`` and ``notebooks/rtl_vs_model.ipynb``
run. For a :class:`~hwsim.arch.SystolicArray` and a list of GEMM shapes it

1. draws random int8 operands from ``seed``;
2. runs each GEMM through the cycle-stepped reference (:func:`hwsim.sim.stepped.simulate_gemm`) and the closed-form
   fast engine (:func:`hwsim.sim.compute.gemm_compute`);
3. generates the engine's Verilog (:func:`rtl.generate.generate`) into ``build/rtl/<stem>/`` (of the source
   checkout when hwsim runs from one, see :func:`default_build_root`), builds it with cocotb's Verilator runner
   (reused when unchanged) and runs the bench :mod:`rtl.bench` on it (:func:`run_bench`), which drives the GEMMs
   through the ports and records the busy cycles and the product it reads back (its scoreboard's verdict is
   recorded too, but here the judge is :func:`judge`);
4. returns one :class:`GemmRecord` per GEMM: RTL, stepped and engine cycles, and whether the RTL's product equals
   NumPy's ``A @ B``.

A disagreement is data (a record whose :attr:`GemmRecord.agrees` is False), not an exception; only a broken
toolchain or a simulation that cannot run raises :class:`CosimError`.

The design's operand memories are sized ``2 * max(R, C) + 1`` in each dimension unless a GEMM needs more, the size
``tests/rtl/test_systolic_verilator.py`` builds, so both share one Verilator build per array and dataflow. A larger
GEMM gets its own folder (``<stem>_mnk<M>x<N>x<K>``) so the two designs do not rebuild each other.

:func:`run_bench` (one bench for every engine, dense or sparse) over :func:`run_cocotb` (build + one cocotb module +
result check, with the environment handling of :mod:`rtl.toolchain`) is the one way a Verilator run happens here;
the RTL tests use it too (``tests/rtl/conftest.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hwsim.api import GemmDims, InputError, gemm_compute, simulate_gemm
from hwsim.arch.systolic import SystolicArray
from hwsim.mapping import lay
from rtl.toolchain import build_dir, build_lock, verilator_environ

__all__ = ["CosimError", "GemmCase", "GemmRecord", "default_build_root", "default_limit", "default_shapes",
           "design_limits", "judge", "make_cases", "run_cocotb", "run_gemms"]

#: Yosys writes width-mixing expressions (``$signed(x) + $signed(2'h1)``) whose meaning the Verilog standard fixes;
#: Verilator's lint warns about each (WIDTHEXPAND ...) and, by default, stops on warnings. The Verilog is generated,
#: so lint findings in it are not actionable here.
VERILATOR_ARGS = ["-Wno-lint"]

#: The cocotb module :func:`run_bench` runs in the simulator.
BENCH_MODULE = "rtl.bench"


class CosimError(RuntimeError):
    """The Verilator build or the cocotb simulation could not run to the end (not a model disagreement)."""


@dataclass(frozen=True)
class GemmRecord:
    """One GEMM run on the RTL and on both cycle models.

    Attributes
    ----------
    m, n, k
        The GEMM ``O[M, N] = A[M, K] @ B[K, N]``.
    rows, cols, dataflow
        The array it ran on.
    rtl_cycles
        Cycles ``busy`` was high on Verilator; None if the engine was still busy at the bench's limit or the
        session stopped before this GEMM.
    stepped_cycles, engine_cycles
        The cycle-stepped reference's and the fast engine's counts.
    outputs_match
        The product read back from the RTL equals NumPy's ``A @ B`` (int32) exactly.
    """

    m: int
    n: int
    k: int
    rows: int
    cols: int
    dataflow: str
    rtl_cycles: int | None
    stepped_cycles: int
    engine_cycles: int
    outputs_match: bool

    @property
    def cycles_match(self) -> bool:
        return self.rtl_cycles == self.stepped_cycles == self.engine_cycles

    @property
    def agrees(self) -> bool:
        """Cycles equal in all three and the product is right."""
        return self.cycles_match and self.outputs_match

    def to_dict(self) -> dict[str, Any]:
        """The fields and ``cycles_match``/``agrees``, for JSON, CSV and plots."""
        return {**asdict(self), "cycles_match": self.cycles_match, "agrees": self.agrees}


def default_build_root() -> Path | None:
    """Where ``build/rtl/`` goes when no root is given: the folder ``HWSIM_RTL_BUILD_ROOT`` names if it is set (the
    tests point it at a temporary folder, so that they never write into the source tree); else the source checkout
    hwsim runs from, if it runs from one (an editable install), so the notebook and the CLI share one set of
    Verilator builds wherever they are started; otherwise None, the project folder at or above the current
    directory (:func:`rtl.toolchain.build_dir`)."""
    override = os.environ.get("HWSIM_RTL_BUILD_ROOT")
    if override:
        return Path(override)
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "pyproject.toml").is_file() and (checkout / "hwsim").is_dir() else None


def default_limit(arch: SystolicArray) -> int:
    """Operand memory size per dimension when no GEMM needs more: room for two folds and a partial third."""
    return 2 * max(arch.rows, arch.cols) + 1


def design_limits(arch: SystolicArray, shapes: Sequence[tuple[int, int, int]]) -> dict[str, int]:
    """``max_m``, ``max_n``, ``max_k`` of the design that runs ``shapes``: :func:`default_limit` or the largest."""
    base = default_limit(arch)
    return {f"max_{dim}": max(base, *(s[i] for s in shapes)) for i, dim in enumerate("mnk")}


def default_shapes(arch: SystolicArray, count: int, *, seed: int = 0) -> list[tuple[int, int, int]]:
    """``count`` GEMM shapes ``(M, N, K)`` that exercise ``arch`` and fit its default-size design.

    The first five are fixed: the array's own size, smaller than it, larger in every dimension (several folds),
    thin and wide, and the largest the default memories hold. Further shapes are drawn from ``seed``, each
    dimension from 1 to :func:`default_limit`, so the Verilog (and its build) does not depend on ``count``.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InputError("must be a whole number >= 1", field="gemms", value=count)
    d, big = max(arch.rows, arch.cols), default_limit(arch)
    fixed = [(d, d, d), (max(1, d // 2), max(1, d - 1), 3), (big, d + 1, big - 2), (2, big, d + 1), (big, big, big)]
    shapes = fixed[:count]
    rng = np.random.default_rng(seed)
    while len(shapes) < count:
        shapes.append(tuple(int(x) for x in rng.integers(1, big + 1, size=3)))
    return shapes


def _check(arch: object, shapes: object, seed: object) -> list[tuple[int, int, int]]:
    if not isinstance(arch, SystolicArray):
        raise InputError("must be a hwsim.arch.SystolicArray", field="arch", value=type(arch).__name__)
    if arch.precision != "int8":
        raise InputError("the RTL engine multiplies int8 operands only", field="precision", value=arch.precision)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError("must be a whole number >= 0", field="seed", value=seed)
    if isinstance(shapes, (str, bytes)) or not isinstance(shapes, Sequence) or not shapes:
        raise InputError("must be a non-empty list of (M, N, K)", field="shapes", value=shapes)
    out = []
    for i, shape in enumerate(shapes):
        if (not isinstance(shape, Sequence) or len(shape) != 3
                or any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1 for x in shape)):
            raise InputError("must be three whole numbers >= 1 (M, N, K)", field=f"shapes[{i}]", value=shape)
        out.append(tuple(int(x) for x in shape))
    return out


@dataclass(frozen=True)
class GemmCase:
    """One GEMM's operands and what the models say about it (the co-simulation's expectation)."""

    a: np.ndarray  # (M, K) int8
    b: np.ndarray  # (K, N) int8
    product: np.ndarray  # (M, N) int32, NumPy's A @ B with int32 wrap-around as the PEs accumulate
    stepped_cycles: int
    engine_cycles: int

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.a.shape[0], self.b.shape[1], self.a.shape[1]


def make_cases(arch: SystolicArray, shapes: Sequence[tuple[int, int, int]], seed: int) -> list[GemmCase]:
    """Random int8 operands for ``shapes`` (from ``seed``) and both models' cycles on ``arch``."""
    rng = np.random.default_rng(seed)
    cases = []
    for m, n, k in shapes:
        a = rng.integers(-128, 128, size=(m, k), dtype=np.int8)
        b = rng.integers(-128, 128, size=(k, n), dtype=np.int8)
        cases.append(GemmCase(
            a=a, b=b, product=(a.astype(np.int64) @ b.astype(np.int64)).astype(np.int32),
            stepped_cycles=simulate_gemm(a, b, arch.rows, arch.cols, arch.dataflow).cycles,
            engine_cycles=gemm_compute(lay(GemmDims(m=m, n=n, k=k), arch)).cycles))
    return cases


def judge(arch: SystolicArray, cases: Sequence[GemmCase], measured: Sequence[Mapping[str, Any]]) -> list[GemmRecord]:
    """Set the bench's measurements (``{"cycles", "outputs"}`` per case, as :mod:`rtl.bench` writes them;
    missing at the end if the session stopped) beside the cases' expectations."""
    records = []
    for i, case in enumerate(cases):
        m, n, k = case.shape
        got = measured[i] if i < len(measured) else {"cycles": None, "outputs": None}
        outputs = got["outputs"]
        match = (outputs is not None and len(outputs) == m * n
                 and np.array_equal(np.asarray(outputs, dtype=np.int64).reshape(m, n), case.product))
        records.append(GemmRecord(m=m, n=n, k=k, rows=arch.rows, cols=arch.cols, dataflow=arch.dataflow.value,
                                  rtl_cycles=got["cycles"], stepped_cycles=case.stepped_cycles,
                                  engine_cycles=case.engine_cycles, outputs_match=bool(match)))
    return records


def run_gemms(arch: SystolicArray, shapes: Sequence[tuple[int, int, int]], *, seed: int,
              build_root: Path | str | None = None,
              progress: Callable[[str], None] | None = None) -> list[GemmRecord]:
    """Run ``shapes`` on ``arch``'s generated engine under Verilator and on both cycle models.

    Parameters
    ----------
    arch
        The array (rows, cols, dataflow ws/os/is; int8).
    shapes
        GEMM shapes ``(M, N, K)``, run in this order, back to back.
    seed
        Seed of the int8 operands (uniform over -128..127), >= 0.
    build_root
        Folder holding ``build/rtl/``; default: :func:`default_build_root`.
    progress
        Called with a short message as each stage starts (generate, build, simulate); for a status line.

    Returns
    -------
    list of GemmRecord
        One per shape, in order.

    Raises
    ------
    InputError
        For a bad ``arch``, ``shapes`` or ``seed``, or a design the generator refuses (memories too large).
    CosimError
        If Verilator is missing, the build fails or the simulation does not complete.
    """
    shapes = _check(arch, shapes, seed)
    from rtl.bench import save_cases  # cocotb, Amaranth load only when a design is made
    from rtl.generate import design_stem, generate

    limits = design_limits(arch, shapes)
    stem = design_stem(arch.rows, arch.cols, arch.dataflow.value)
    default = set(limits.values()) == {default_limit(arch)}
    folder = stem if default else f"{stem}_mnk{limits['max_m']}x{limits['max_n']}x{limits['max_k']}"
    cases = make_cases(arch, shapes, seed)
    bdir = build_dir(folder, root=build_root if build_root is not None else default_build_root())
    with build_lock(bdir):
        if progress:
            progress(f"generating {stem}")
        try:
            verilog, _ = generate(arch, bdir, **limits)
        except ValueError as err:  # the generator's own limits (memory depth, 16-bit sizes)
            raise InputError(str(err).splitlines()[0], field="shapes") from None
        # A generous bound: a hung engine is reported, a slow one is still measured.
        gemms = [{"a": case.a, "b": case.b, "product": case.product,
                  "limit": 8 * max(case.stepped_cycles, case.engine_cycles) + 256} for case in cases]
        save_cases(bdir / "cosim_cases.npz", rows=arch.rows, cols=arch.cols, dataflow=arch.dataflow.value,
                   cases=gemms)
        measured = run_bench(verilog=verilog, toplevel=stem, bdir=bdir, cases=bdir / "cosim_cases.npz",
                             results=bdir / "cosim_results.json", seed=seed, check=False, log_prefix="cosim_",
                             progress=progress)
    return judge(arch, cases, measured)


def run_bench(*, verilog: Path, toplevel: str, bdir: Path, cases: Path, results: Path, seed: int, check: bool,
              log_prefix: str | None = None, progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Run :mod:`rtl.bench` on the design with the GEMMs of ``cases`` (:func:`rtl.bench.save_cases`); return its
    per-GEMM records (``name``, ``cycles``, ``outputs``, ``mismatch``).

    Call it holding :func:`rtl.toolchain.build_lock` on ``bdir``; the bench writes its records to ``results``. With ``check`` the bench fails at the first mismatch, and so does this call
    (:class:`CosimError` naming the mismatch); without it a disagreement is in the records.

    Raises
    ------
    CosimError
        As :func:`run_cocotb`, or the bench wrote no usable results.
    """
    results.unlink(missing_ok=True)
    env = {"HWSIM_BENCH_CASES": str(cases), "HWSIM_BENCH_RESULTS": str(results),
           "HWSIM_BENCH_CHECK": "1" if check else "0"}
    try:
        run_cocotb(verilog=verilog, toplevel=toplevel, bdir=bdir, test_module=BENCH_MODULE, test_dir=bdir,
                   seed=seed, extra_env=env, log_prefix=log_prefix, progress=progress)
    except CosimError as err:
        failed = [r["mismatch"] for r in _records(results) or [] if r["mismatch"]]
        raise CosimError(f"{failed[0]} ({err})" if failed else str(err)) from None
    records = _records(results)
    if records is None:
        raise CosimError(f"the bench wrote no usable results to {results}")
    return records


def _records(path: Path) -> list[dict[str, Any]] | None:
    """The bench's records, or None if it wrote none (or a broken file)."""
    from rtl.bench import load_results  # cocotb loads only when a bench has run

    try:
        return load_results(path)
    except (OSError, ValueError, KeyError):
        return None


def run_cocotb(*, verilog: Path, toplevel: str, bdir: Path, test_module: str, test_dir: Path, seed: int,
               extra_env: Mapping[str, str] | None = None, log_prefix: str | None = None,
               progress: Callable[[str], None] | None = None) -> None:
    """Build ``verilog`` in ``bdir`` with Verilator (reused when unchanged) and run one cocotb test module on it.

    Call it holding :func:`rtl.toolchain.build_lock` on ``bdir``.

    Parameters
    ----------
    verilog
        The design; its top module is ``toplevel``.
    bdir
        The build folder (persistent, e.g. :func:`rtl.toolchain.build_dir`); the results file goes there too.
    test_module, test_dir
        The cocotb module (a dotted name importable from ``sys.path`` or ``test_dir``) and the simulator's working
        folder, which cocotb puts on the simulator's ``sys.path``.
    seed
        cocotb's random seed (an exported ``COCOTB_RANDOM_SEED`` is ignored so that this one holds).
    extra_env
        Variables for the simulation, e.g. the path of a cases file.
    log_prefix
        If given, the build and simulation output goes to ``<bdir>/<prefix>build.log`` and ``<prefix>sim.log``
        instead of this process's stdout.
    progress
        Called with a short message before the build and before the simulation.

    Raises
    ------
    CosimError
        If the toolchain is missing, the build fails, the simulator fails, or the module did not run exactly one
        cocotb test that passed. The message names the logs (or the output above) and the replay seed.
    """
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    build_log = bdir / f"{log_prefix}build.log" if log_prefix is not None else None
    sim_log = bdir / f"{log_prefix}sim.log" if log_prefix is not None else None
    where = f"see {build_log}" if build_log else "see the output above"
    # The runner applies os.environ after seed=, so an exported COCOTB_RANDOM_SEED would replace it.
    saved = os.environ.pop("COCOTB_RANDOM_SEED", None)
    runner = get_runner("verilator")
    try:
        try:
            with verilator_environ():
                if progress:
                    progress(f"building {toplevel} with Verilator")
                # Reuse comes from the persistent folder: Verilator skips identical input, make finds nothing to do.
                runner.build(sources=[verilog], hdl_toplevel=toplevel, build_dir=bdir, build_args=VERILATOR_ARGS,
                             log_file=build_log)
        except RuntimeError as err:
            raise CosimError(f"Verilator build of {toplevel} failed: {err} ({where})") from None
        where = f"see {sim_log}" if sim_log else "see the output above"
        if progress:
            progress(f"simulating {toplevel}")
        results = bdir / f"{log_prefix or ''}results.xml"
        try:
            # Under pytest the runner checks the results itself and calls sys.exit on failure; elsewhere it
            # calls sys.exit only when the simulator itself fails.
            out = runner.test(hdl_toplevel=toplevel, test_module=test_module, test_dir=test_dir, build_dir=bdir,
                              results_xml=str(results), seed=seed, log_file=sim_log,
                              extra_env={**(extra_env or {}), "HWSIM_RTL_SEED": str(seed)})
        except SystemExit as exc:
            raise CosimError(f"cocotb run of {test_module} on {toplevel} failed (runner sys.exit({exc.code!r}); "
                             f"{where}); replay with HWSIM_RTL_SEED={seed}") from None
    finally:
        if saved is not None:
            os.environ["COCOTB_RANDOM_SEED"] = saved
    try:
        num_tests, num_failed = get_results(Path(out))
    except RuntimeError as err:
        raise CosimError(f"{err} ({where})") from None
    # Zero tests (e.g. the module was not found) must not pass.
    if (num_tests, num_failed) != (1, 0):
        raise CosimError(f"{num_failed} of {num_tests} cocotb tests in {test_module} failed on {toplevel} (expected "
                         f"one passing test; {where}); replay with HWSIM_RTL_SEED={seed}")
