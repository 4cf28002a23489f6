"""RTL side of hwsim: Amaranth designs and the helpers that build and simulate them.

:mod:`rtl.toolchain` wraps the pinned flow (Amaranth -> Yosys -> Verilog -> Verilator ->
cocotb); :mod:`rtl.counter` is the probe design the toolchain test runs through it.
"""
