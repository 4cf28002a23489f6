"""The cycle-stepped memory reference on small cases worked by hand from its definition (hwsim.sim.stepped_memory).

Every expected number below is derived in the comment above it from the model: stream tiles, what each step
fetches, one DMA phase per step of ``Lat*[reads] + ceil(bytes / B)`` cycles, stalls ``max(0, D - L)``.
"""

from __future__ import annotations

import pytest

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.mapping import lay
from hwsim.sim.stepped_memory import step_memory
from hwsim.workload.lowering import GemmDims


def array(rows=4, cols=4, dataflow="ws", bandwidth=10.0, latency=0, **kw) -> SystolicArray:
    return SystolicArray(rows, cols, dataflow=dataflow, dram_bandwidth_bytes_per_cycle=bandwidth,
                         dram_latency_cycles=latency, **kw)


def counts(r) -> tuple[int, ...]:
    return (r.prefetch_cycles, r.compute_cycles, r.stall_cycles, r.drain_cycles, r.total_cycles,
            r.ifmap_dram_read_bytes, r.filter_dram_read_bytes, r.ofmap_dram_write_bytes, r.ofmap_dram_read_bytes)


def test_one_fold_ws_prefetch_phase_and_drain():
    # 4x4 ws, M=10, K=4, N=4: one fold of L = 2*4 + 4 + 10 - 2 = 20 cycles. B=10, Lat=3.
    # prefetch: the 4x4 filter tile, 16 B: 3 + ceil(16/10) = 5. Phase 0: A (10x4 = 40 B) after the latency: 3 + 4 =
    # 7 <= 20, no stall. Drain: 40 outputs, 4 cycles, no latency. Total 5 + 20 + 4 = 29.
    arch = array(latency=3)
    r = step_memory(lay(GemmDims(m=10, n=4, k=4), arch), arch)
    assert counts(r) == (5, 20, 0, 4, 29, 40, 16, 40, 0)
    assert [s.phase_cycles for s in r.steps] == [7]


def test_one_fold_ws_stalls_at_one_byte_per_cycle():
    # As above at B=1: prefetch 3 + 16 = 19; phase 3 + 40 = 43 against L = 20: 23 stall cycles; drain 40.
    arch = array(bandwidth=1.0, latency=3)
    r = step_memory(lay(GemmDims(m=10, n=4, k=4), arch), arch)
    assert counts(r) == (19, 20, 23, 40, 102, 40, 16, 40, 0)


def test_fractional_bandwidth_uses_the_whole_cycle_predicate():
    # B = 0.75: 16 B of prefetch take the smallest k with 0.75k >= 16: k = 22 (21 * 0.75 = 15.75).
    arch = array(bandwidth=0.75)
    r = step_memory(lay(GemmDims(m=10, n=4, k=4), arch), arch)
    assert r.prefetch_cycles == 22
    assert r.steps[0].phase_cycles == 54  # 40 B: 53 * 0.75 = 39.75 < 40
    assert r.drain_cycles == 54


def test_streamed_ifmap_kept_for_the_run_or_fetched_by_every_column_fold():
    # 4x4 ws, M=10, K=4, N=8: two column folds, L = 20 each. The run's A (40 B) fits half the ifmap SRAM, so only
    # column fold 0 reads it. Phase 0: A 40 B + fold 1's filter tile 16 B after Lat 3: 3 + ceil(56/10) = 9.
    # Phase 1: fold 0's 40 outputs, no reads, no latency: 4. Drain 4. Prefetch 3 + 2.
    arch = array(latency=3)
    r = step_memory(lay(GemmDims(m=10, n=8, k=4), arch), arch)
    assert [s.phase_cycles for s in r.steps] == [9, 4]
    assert counts(r) == (5, 40, 0, 4, 49, 40, 32, 80, 0)
    # Half the ifmap SRAM one byte short of A (39 B): column fold 1 reads A again: phase 1 = 3 + ceil(80/10) = 11.
    small = array(latency=3, ifmap_sram_kib=2 * 39 / 1024)
    r = step_memory(lay(GemmDims(m=10, n=8, k=4), small), small)
    assert [s.phase_cycles for s in r.steps] == [9, 11]
    assert r.ifmap_dram_read_bytes == 80
    # Exactly at half (40 B): kept again.
    exact = array(latency=3, ifmap_sram_kib=2 * 40 / 1024)
    assert step_memory(lay(GemmDims(m=10, n=8, k=4), exact), exact).ifmap_dram_read_bytes == 40


def test_stream_tiles_share_the_resident_filter():
    # 4x4 ws, M=10, K=8, N=4: two row folds. 4 columns of 4-byte partial sums = 16 B per stream position; half the
    # ofmap SRAM is 64 B, so at most 4 positions per tile: the fewest tiles (3), as even as they go: 4, 3 and 3
    # positions, 3 runs x 2 folds. L = 14, 14, 13, 13, 13, 13 (80). The whole filter (32 B) fits: only run 0 fetches
    # its two 16 B tiles. B = 4: prefetch 16/4 = 4; phases: [A 16 + next tile 16] 8, [A 16] 4, [writes 16 + A 12] 7,
    # [A 12] 3, [writes 12 + A 12] 6, [A 12] 3; none exceeds L. Drain 12 B: 3. Outputs written only by row fold 1.
    arch = array(bandwidth=4.0, ofmap_sram_kib=128 / 1024)
    lm = lay(GemmDims(m=10, n=4, k=8), arch)
    r = step_memory(lm, arch)
    assert [(s.tile, s.row_fold, s.compute_cycles) for s in r.steps] == [
        (0, 0, 14), (0, 1, 14), (1, 0, 13), (1, 1, 13), (2, 0, 13), (2, 1, 13)]
    assert [s.phase_cycles for s in r.steps] == [8, 4, 7, 3, 6, 3]
    assert counts(r) == (4, 80, 0, 3, 87, 80, 32, 40, 0)
    # B = 1: phases 32, 16, 28, 12, 24, 12 against 14, 14, 13, 13, 13, 13: stalls 18 + 2 + 15 + 11 = 46.
    slow = array(bandwidth=1.0, ofmap_sram_kib=128 / 1024)
    r = step_memory(lay(GemmDims(m=10, n=4, k=8), slow), slow)
    assert [s.stall_cycles for s in r.steps] == [18, 2, 15, 0, 11, 0]
    assert counts(r) == (16, 80, 46, 12, 154, 80, 32, 40, 0)


def test_one_row_fold_never_tiles():
    # K = 4 on 4 rows: no partial sums to keep, so no tiling however small the ofmap SRAM: one fold, L = 20.
    arch = array(ofmap_sram_kib=16 / 1024)
    r = step_memory(lay(GemmDims(m=10, n=4, k=4), arch), arch)
    assert [s.compute_cycles for s in r.steps] == [20]


def test_a_partial_sum_row_that_cannot_fit_is_an_error():
    arch = array(ofmap_sram_kib=2 * 15 / 1024)  # half = 15 B < one position's 16 B of partial sums
    with pytest.raises(InputError, match="ofmap_sram_kib"):
        step_memory(lay(GemmDims(m=10, n=4, k=8), arch), arch)


def test_os_filter_slice_kept_for_its_row_folds():
    # 2x2 os, M=4, N=2, K=3: two row folds, T = 3, L = 2*2 + 2 + 3 - 2 = 7. No resident tile: no prefetch.
    # A (12 B) fits: each row fold reads its own 2x3 rows. The filter slice (3x2 = 6 B) fits: row fold 0 only.
    # B=1, Lat=2. Phase 0: A 6 + B 6 after 2: 14, stall 7. Phase 1: fold 0's 4 outputs + A 6, after 2: 12,
    # stall 5. Drain 4. Total 0 + 14 + 12 + 4 = 30.
    arch = array(2, 2, "os", bandwidth=1.0, latency=2)
    r = step_memory(lay(GemmDims(m=4, n=2, k=3), arch), arch)
    assert [s.phase_cycles for s in r.steps] == [14, 12]
    assert counts(r) == (0, 14, 12, 4, 30, 12, 6, 8, 0)
    # Half the filter SRAM one byte short of the slice: row fold 1 reads it again: phase 1 = 2 + 16 = 18.
    small = array(2, 2, "os", bandwidth=1.0, latency=2, filter_sram_kib=2 * 5 / 1024)
    r = step_memory(lay(GemmDims(m=4, n=2, k=3), small), small)
    assert [s.phase_cycles for s in r.steps] == [14, 18]
    assert counts(r) == (0, 14, 18, 4, 36, 12, 12, 8, 0)


def test_is_holds_the_ifmap_and_streams_the_filter():
    # 4x4 is, M=4, K=4, N=6: A^T (4x4) held, B^T streamed, T = N = 6, one fold, L = 8 + 4 + 6 - 2 = 16.
    # Prefetch A 16 B at 8 B/cycle: 2. Phase 0: B 24 B: 3. Drain 24 outputs: 3.
    arch = array(dataflow="is", bandwidth=8.0)
    r = step_memory(lay(GemmDims(m=4, n=6, k=4), arch), arch)
    assert counts(r) == (2, 16, 0, 3, 21, 16, 24, 24, 0)


def test_packed_groups_fetch_only_the_diagonal_blocks():
    # 8x8 ws, 4 groups of K=3, N=2, M=5: 2 groups per fold (6 rows, 4 columns), 2 runs. Each run's B' is 6x4 with
    # two 3x2 blocks: 12 of its 24 elements come from DRAM, 24 B in all, as the layer's own filters.
    arch = array(8, 8)
    lm = lay(GemmDims(m=5, n=2, k=3, repeat=4), arch, pack=True)
    assert lm.packed_groups == 2 and lm.run.repeat == 2
    r = step_memory(lm, arch)
    assert r.filter_dram_read_bytes == 24
    assert r.ifmap_dram_read_bytes == 2 * 5 * 6 and r.ofmap_dram_write_bytes == 2 * 5 * 4


def test_calc_moves_bytes_in_no_time():
    arch = array(bandwidth=1.0, latency=7, interface_bandwidth="CALC", ofmap_sram_kib=128 / 1024)
    r = step_memory(lay(GemmDims(m=10, n=4, k=8), arch), arch)
    assert counts(r) == (0, 80, 0, 0, 80, 80, 32, 40, 0)


def test_interleave_shortens_every_step_but_a_runs_last():
    # Two column folds on 4x4, M=10: R + t = 14 for the first, L = 20 for the last.
    arch = array(interface_bandwidth="CALC")
    r = step_memory(lay(GemmDims(m=10, n=8, k=4), arch), arch, interleave=True)
    assert [s.compute_cycles for s in r.steps] == [14, 20]


def test_a_unique_scales_each_ifmap_transfer():
    # A 10x4 = 40 elements at a_unique 0.3: ceil(40 * 8 * 0.3 / 8) = 12 B.
    arch = array()
    r = step_memory(lay(GemmDims(m=10, n=4, k=4), arch), arch, a_unique=0.3)
    assert r.ifmap_dram_read_bytes == 12


def test_sparse_ws_reads_every_window_element_once_when_kept():
    # 2:4 ws on 2x2, M=3, K=8 (two groups), N=2: K' = 4 compressed rows, two row folds (one group each).
    # The run's A (3x8 = 24 B) fits: every element is read once although each window feeds two rows.
    arch = array(2, 2)
    lm = lay(GemmDims(m=3, n=2, k=8), arch, n_keep=2, m_group=4)
    r = step_memory(lm, arch)
    assert r.ifmap_dram_read_bytes == 24
    assert r.filter_dram_read_bytes == 4 * 2  # K' x N slots
    assert r.ofmap_dram_write_bytes == 6


def test_sparse_stream_tiles_share_one_compressed_filter():
    # 2:4 ws on 2x3, M=40, K=33, N=37, two repeats: K' = 8*2 + 1 = 17 rows, 9 row folds; half the ofmap SRAM
    # (25.6 B) holds 2 positions of 3 columns' partial sums, so 20 stream tiles. The whole compressed filter (17 x 37
    # = 629 slots) fits half the filter SRAM: the tiles of a repeat share it, and each repeat reads it once.
    arch = SystolicArray(2, 3, dataflow="ws", ofmap_sram_kib=0.05)
    lm = lay(GemmDims(m=40, n=37, k=33, repeat=2), arch, n_keep=2, m_group=4)
    r = step_memory(lm, arch)
    assert {s.tile for s in r.steps} == set(range(20))
    assert r.filter_dram_read_bytes == 2 * 17 * 37
    assert all(s.resident_read_bytes == 0 for s in r.steps if s.tile > 0)
    assert r.ifmap_dram_read_bytes == 2 * 40 * 33


def test_fractional_bytes_add_up_before_one_rounding():
    # 4x4 ws, M=10, K=1, N=8: two column folds of L = 20. A (10 elements at a_unique 0.35 = 3.5 B) does not fit
    # half of a 6-byte ifmap SRAM, so both column folds fetch it: 7 B in all (a ceil per transfer would say 8).
    # B=1: prefetch the 1x4 filter tile, 4; phase 0: 3.5 + the next tile's 4 = 7.5 B, 8 cycles; phase 1: fold 0's
    # 40 outputs + 3.5 = 43.5 B, 44 cycles, 24 of them stalls; drain 40.
    arch = array(bandwidth=1.0, ifmap_sram_kib=6 / 1024)
    r = step_memory(lay(GemmDims(m=10, n=8, k=1), arch), arch, a_unique=0.35)
    assert [s.ifmap_read_bytes for s in r.steps] == [3.5, 3.5]
    assert [s.phase_cycles for s in r.steps] == [8, 44]
    assert counts(r) == (4, 40, 24, 40, 108, 7, 8, 80, 0)


def test_streamed_ifmap_kept_only_when_the_whole_stream_fits():
    # 4x4 ws, M=10, K=8, N=8: 2 row folds x 2 column folds; 64 B of half ofmap SRAM cut the stream into tiles of 4,
    # 4 and 2. Each tile's A (at most 4x8 = 32 B) fits a 40 B half ifmap SRAM, the whole stream's (10x8 = 80 B) does
    # not: not kept, so both column folds of every run read their slices: 160 B. A half of 80 B keeps it: 80 B.
    for half, ifmap_bytes in ((40, 160), (80, 80)):
        arch = array(ofmap_sram_kib=128 / 1024, ifmap_sram_kib=2 * half / 1024)
        r = step_memory(lay(GemmDims(m=10, n=8, k=8), arch), arch)
        assert {s.tile for s in r.steps} == {0, 1, 2}
        assert r.ifmap_dram_read_bytes == ifmap_bytes
