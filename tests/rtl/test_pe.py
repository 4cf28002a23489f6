"""One :class:`rtl.pe.ProcessingElement` alone under Amaranth's simulator, against a per-cycle Python reference.

Both families are driven with seeded random inputs (bubbles, real tags, int8 extremes, partial sums near the
int32 limits so the adder wraps) and every output is compared every cycle: the combinational ``sum``/``sum_tag``
of the stationary family before the edge, every register after it. The seed is printed; replay it with
``HWSIM_RTL_SEED=<n>``.
"""

from __future__ import annotations

import gc
import random
import warnings

import pytest
from amaranth.hdl import UnusedElaboratable
from amaranth.sim import Simulator

from rtl.pe import ProcessingElement, family

pytestmark = pytest.mark.rtl

TAG_WIDTH = 8
CYCLES = 400
INT32 = 1 << 32


def wrap32(value: int) -> int:
    """``value`` as a two's-complement int32 (what the 32-bit registers hold)."""
    value %= INT32
    return value - INT32 if value >= INT32 // 2 else value


def operand(rng: random.Random) -> int:
    """An int8, with the extremes drawn often."""
    return rng.choice([-128, 127, 0, rng.randrange(-128, 128)])


def tag(rng: random.Random) -> int:
    """A tag: a bubble a third of the time, else a valid non-negative value that fits TAG_WIDTH (signed)."""
    return -1 if rng.random() < 1 / 3 else rng.randrange(0, 1 << (TAG_WIDTH - 2))


def psum(rng: random.Random) -> int:
    """An int32 partial sum, often close to the limits so that adding a product wraps."""
    return rng.choice([rng.randrange(-(1 << 31), 1 << 31), (1 << 31) - rng.randrange(1, 20000),
                       -(1 << 31) + rng.randrange(0, 20000)])


def run(dut: ProcessingElement, bench) -> None:
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


def test_stationary_pe_matches_reference(seed):
    rng = random.Random(seed)
    dut = ProcessingElement("ws", tag_width=TAG_WIDTH)
    assert dut.family == "stationary"

    async def bench(ctx):
        # Registers after reset: nothing held, bubbles everywhere.
        w, w_valid, x, x_tag, p, p_tag = 0, 0, 0, -1, 0, -1
        for cycle in range(CYCLES):
            inputs = {
                "load": int(rng.random() < 0.3), "w_in": operand(rng), "w_valid_in": rng.getrandbits(1),
                "x_in": operand(rng), "x_tag_in": tag(rng), "p_in": psum(rng), "p_tag_in": tag(rng),
            }
            for name, value in inputs.items():
                ctx.set(dut.port(name), value)
            want_sum = wrap32(inputs["p_in"] + w * inputs["x_in"])
            want_tag = inputs["x_tag_in"] if w_valid else inputs["p_tag_in"]
            got = (ctx.get(dut.port("sum")), ctx.get(dut.port("sum_tag")))
            assert got == (want_sum, want_tag), (
                f"cycle {cycle}: sum/sum_tag = {got}, reference {(want_sum, want_tag)} "
                f"(w={w}, holds={w_valid}, inputs={inputs}, seed={seed})")
            await ctx.tick()
            if inputs["load"]:
                w, w_valid = inputs["w_in"], inputs["w_valid_in"]
            x, x_tag, p, p_tag = inputs["x_in"], inputs["x_tag_in"], want_sum, want_tag
            got = tuple(ctx.get(dut.port(n)) for n in
                        ("w_out", "w_valid_out", "x_out", "x_tag_out", "p_out", "p_tag_out"))
            assert got == (w, w_valid, x, x_tag, p, p_tag), (
                f"after cycle {cycle}: registers (w, holds, x, x_tag, p, p_tag) = {got}, "
                f"reference {(w, w_valid, x, x_tag, p, p_tag)} (inputs={inputs}, seed={seed})")

    run(dut, bench)


def test_output_pe_matches_reference(seed):
    rng = random.Random(seed)
    dut = ProcessingElement("os", tag_width=TAG_WIDTH)
    assert dut.family == "output"

    async def bench(ctx):
        acc, acc_tag = 0, -1
        for cycle in range(CYCLES):
            inputs = {
                "drain": int(rng.random() < 0.3),
                "a_in": operand(rng), "a_tag_in": tag(rng), "b_in": operand(rng), "b_tag_in": tag(rng),
                "acc_in": psum(rng), "acc_tag_in": tag(rng),
            }
            for name, value in inputs.items():
                ctx.set(dut.port(name), value)
            await ctx.tick()
            if inputs["drain"]:
                acc, acc_tag = inputs["acc_in"], inputs["acc_tag_in"]
            else:
                acc = wrap32(acc + inputs["a_in"] * inputs["b_in"])
                if inputs["a_tag_in"] >= 0 and inputs["b_tag_in"] >= 0:
                    # Fits: both tags < 2**(TAG_WIDTH-2), so the sum stays below the signed limit.
                    acc_tag = inputs["a_tag_in"] + inputs["b_tag_in"]
            want = (inputs["a_in"], inputs["a_tag_in"], inputs["b_in"], inputs["b_tag_in"], acc, acc_tag)
            got = tuple(ctx.get(dut.port(n)) for n in
                        ("a_out", "a_tag_out", "b_out", "b_tag_out", "acc_out", "acc_tag_out"))
            assert got == want, (
                f"after cycle {cycle}: registers (a, a_tag, b, b_tag, acc, acc_tag) = {got}, reference {want} "
                f"(inputs={inputs}, seed={seed})")

    run(dut, bench)


def test_reset_state_is_bubbles():
    """Every tag register starts at -1 and every value at 0, so an array needs no clearing before a GEMM."""
    for flow, names in (("is", ("w_out", "w_valid_out", "x_out", "x_tag_out", "p_out", "p_tag_out")),
                        ("os", ("a_out", "a_tag_out", "b_out", "b_tag_out", "acc_out", "acc_tag_out"))):
        dut = ProcessingElement(flow, tag_width=4)
        seen = {}

        async def bench(ctx, dut=dut, names=names, seen=seen):
            seen.update({n: ctx.get(dut.port(n)) for n in names})

        run(dut, bench)
        assert {n: v for n, v in seen.items() if "tag" in n} == {n: -1 for n in names if "tag" in n}, flow
        assert all(v == 0 for n, v in seen.items() if "tag" not in n), (flow, seen)


@pytest.mark.parametrize(("flow", "expected"), [("ws", "stationary"), ("IS", "stationary"), ("os", "output")])
def test_family(flow, expected):
    assert family(flow) == expected


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("rs",), {"tag_width": 8}, "dataflow 'rs' has no systolic PE here: expected ws, is or os"),
    (("xs",), {"tag_width": 8}, "unknown dataflow 'xs': expected ws, is or os"),
    (("ws",), {"tag_width": 1}, "tag_width must be an int >= 2 (tags hold -1), got 1"),
    (("os",), {"tag_width": True}, "tag_width must be an int >= 2 (tags hold -1), got True"),
])
def test_bad_arguments(args, kwargs, message):
    assert value_error(ProcessingElement, *args, **kwargs) == message


def value_error(constructor, *args, **kwargs) -> str:
    """The message of the ValueError ``constructor(*args, **kwargs)`` raises.

    A constructor that raises leaves a half-built Elaboratable behind, and Amaranth warns, when it is collected,
    that it was never used; collect it here, with that warning silenced, instead of at some later test.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(ValueError) as info:
            constructor(*args, **kwargs)
        message = str(info.value)
        del info
        gc.collect()
    return message
