"""N:M structured sparsity: at most N non-zeros in every group of M consecutive weights."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hwsim.errors import InputError

_NM_RE = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")


@dataclass(frozen=True)
class NMSparsity:
    """N non-zeros kept out of every M weights along the reduction dimension.

    ``N == M`` is dense. The groups run along the GEMM's K (reduction) dimension, which is
    where an N:M engine picks its operands (the SAT convention, see shared PAPERS.md).
    """

    n: int
    m: int

    def __post_init__(self) -> None:
        if self.m < 1:
            raise InputError("M must be >= 1", field="sparsity", value=f"{self.n}:{self.m}")
        if self.n < 1:
            raise InputError("N must be >= 1", field="sparsity", value=f"{self.n}:{self.m}")
        if self.n > self.m:
            raise InputError("N must not exceed M", field="sparsity", value=f"{self.n}:{self.m}")

    @classmethod
    def parse(cls, text: object) -> "NMSparsity":
        if isinstance(text, NMSparsity):
            return text
        match = _NM_RE.match(text) if isinstance(text, str) else None
        if not match:
            raise InputError("expected 'N:M', e.g. '2:4'", field="sparsity", value=text)
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def density(self) -> float:
        return self.n / self.m

    def __str__(self) -> str:
        return f"{self.n}:{self.m}"
