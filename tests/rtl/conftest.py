"""Shared by the RTL tests: the run's random seed, logged and replayable."""

from __future__ import annotations

import os
import random

import pytest


@pytest.fixture
def seed() -> int:
    """The run's seed: ``HWSIM_RTL_SEED`` if set, else a fresh one; printed for replay."""
    text = os.environ.get("HWSIM_RTL_SEED")
    value = int(text) if text else random.SystemRandom().randrange(2**31)
    print(f"HWSIM_RTL_SEED={value}")
    return value
