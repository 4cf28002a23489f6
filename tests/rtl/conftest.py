"""Shared by the RTL tests: the run's random seed (logged and replayable) and the session's build folders."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest


@pytest.fixture
def seed() -> int:
    """The run's seed: ``HWSIM_RTL_SEED`` if set, else a fresh one; printed for replay."""
    text = os.environ.get("HWSIM_RTL_SEED")
    value = int(text) if text else random.SystemRandom().randrange(2**31)
    print(f"HWSIM_RTL_SEED={value}")
    return value


@pytest.fixture(scope="session")
def rtl_build_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The root (holding ``build/rtl/<stem>/``) of every Verilator build this session's tests make.

    Under pytest's temporary directory, so that test sessions can run side by side and no test writes into the
    source tree's ``build/``; one per session, so tests of the same design share its build.
    """
    return tmp_path_factory.mktemp("rtl_builds")


@pytest.fixture(autouse=True)
def _rtl_builds_in_session_folder(monkeypatch: pytest.MonkeyPatch, rtl_build_root: Path) -> None:
    """``hwsim rtl compare`` and :func:`hwsim.api.rtl_compare` build in :func:`rtl.cosim.default_build_root`: in the
    tests, that is the session's folder."""
    monkeypatch.setenv("HWSIM_RTL_BUILD_ROOT", str(rtl_build_root))
