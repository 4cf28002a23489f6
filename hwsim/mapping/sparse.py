"""The N:M compressed layout of a filter operand: how many rows it keeps and what one activation row supplies.

``B[K, N]`` N:M sparse along ``K`` keeps, in every group of ``m_group`` consecutive ``k``, ``n_keep`` weights.
``K = q*m_group + p`` (``0 <= p < m_group``) gives ``q`` full groups and, when ``p > 0``, one partial group of
``p`` weights, which keeps ``min(n_keep, p)``. The layout is :mod:`hwsim.sim.sparse`'s (SAT, Fang et al. 2023);
dense is ``n_keep == m_group``, where nothing is compressed and each PE takes a window of one activation.
"""

from __future__ import annotations

import numpy as np

from hwsim.errors import InputError

MAX_GROUP = 256
"""The widest group the compressed layout holds: its in-group indices are uint8."""


class SparseArgumentError(InputError, ValueError):
    """A bad argument to the N:M layout or the sparse engine: one line, and a :class:`ValueError` as well."""


def whole(name: str, v: object) -> int:
    """``v`` as an ``int`` if it is a whole number >= 1, else :class:`SparseArgumentError` naming ``name``."""
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
        raise SparseArgumentError("must be a whole number >= 1", field=name, value=v)
    return int(v)


def check_sparsity(n_keep: object, m_group: object) -> tuple[int, int]:
    """``(n_keep, m_group)`` checked: whole, ``n_keep <= m_group <= 256``."""
    n_keep, m_group = whole("n_keep", n_keep), whole("m_group", m_group)
    if m_group > MAX_GROUP:
        raise SparseArgumentError(f"must be <= {MAX_GROUP} (indices are uint8)", field="m_group", value=m_group)
    if n_keep > m_group:
        raise SparseArgumentError(f"must not exceed m_group = {m_group}", field="n_keep", value=n_keep)
    return n_keep, m_group


def compressed_rows(k: int, n_keep: int, m_group: int) -> int:
    """Rows ``K'`` of an N:M compressed ``K x N`` operand: ``q*n_keep + min(n_keep, p)`` with ``K = q*m_group + p``.

    Parameters
    ----------
    k
        The dense reduction length ``K``, >= 1.
    n_keep, m_group
        The sparsity ``n_keep:m_group``, ``1 <= n_keep <= m_group <= 256``.

    Returns
    -------
    int
        ``K'``; ``K`` itself in dense mode (``n_keep == m_group``).

    Raises
    ------
    SparseArgumentError
        One line naming the bad argument.

    Examples
    --------
    >>> compressed_rows(8, 2, 4), compressed_rows(5, 2, 4), compressed_rows(7, 4, 4)
    (4, 3, 7)
    """
    k = whole("k", k)
    n_keep, m_group = check_sparsity(n_keep, m_group)
    q, p = divmod(k, m_group)
    return q * n_keep + min(n_keep, p)


def window_elements(k: int, n_keep: int, m_group: int) -> int:
    """``E``: activations one row of ``A`` supplies to the ``K'`` compressed rows (in-range window elements).

    Each compressed row is fed the window of ``m_group`` activations its group spans (fewer for the partial group
    past ``K``): ``E = q*n_keep*m_group + min(n_keep, p)*p``, and ``E = K`` when dense.
    """
    if n_keep == m_group:
        return k
    q, p = divmod(k, m_group)
    return q * n_keep * m_group + min(n_keep, p) * p
