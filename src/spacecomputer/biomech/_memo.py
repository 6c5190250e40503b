"""Per-sequence memoisation: what one engine pass derives from a pose sequence, computed once.

Several stages of a pass need the same derived quantities of one sequence — landmark means, segment end
points, the whole-body centre of mass, segment motion, joint angles. A
:class:`~spacecomputer.domain.PoseSequence` never changes (a frozen dataclass with read-only arrays) and
compares by identity, so a result derived from it stays valid for as long as the sequence lives:
:func:`per_sequence` computes it on the first call and hands the same object back afterwards.

The cache holds each sequence weakly: its entries go when the sequence does, so the Monte Carlo draws of the
uncertainty analysis (one new sequence each) do not pile up. The other arguments are part of the key and must
be hashable (pass ``up`` as a tuple, not an array).

Shared results must not be changed by a caller: cached functions return read-only arrays (:func:`readonly`)
and immutable containers (tuples, frozen dataclasses, :func:`frozen_mapping`); the public functions that
promise a ``dict`` build a new one from them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping
from types import MappingProxyType
from typing import Concatenate, ParamSpec, TypeVar
from weakref import WeakKeyDictionary

import numpy as np
from numpy.typing import NDArray

from spacecomputer.domain import PoseSequence

__all__ = ["frozen_mapping", "per_sequence", "readonly"]

_P = ParamSpec("_P")
_R = TypeVar("_R")
_K = TypeVar("_K")
_V = TypeVar("_V")
_A = TypeVar("_A", bound=np.generic)


def per_sequence(
    function: Callable[Concatenate[PoseSequence, _P], _R],
) -> Callable[Concatenate[PoseSequence, _P], _R]:
    """Memoise ``function(sequence, *args, **kwargs)`` per sequence (by identity) and hashable arguments.

    Examples
    --------
    >>> calls = []
    >>> @per_sequence
    ... def n_frames(sequence: PoseSequence) -> int:
    ...     calls.append(1)
    ...     return sequence.n_frames
    >>> seq = PoseSequence(np.zeros((2, 33, 3)), np.ones((2, 33)), np.array([0.0, 0.1]), 10.0, "world")
    >>> n_frames(seq), n_frames(seq), len(calls)
    (2, 2, 1)

    """
    results: WeakKeyDictionary[PoseSequence, dict[Hashable, _R]] = WeakKeyDictionary()

    @functools.wraps(function)
    def cached(sequence: PoseSequence, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        key: Hashable = (args, tuple(sorted(kwargs.items()))) if kwargs else args
        entries = results.get(sequence)
        if entries is None:
            entries = results[sequence] = {}
        elif key in entries:
            return entries[key]
        result = function(sequence, *args, **kwargs)
        entries[key] = result
        return result

    return cached


def readonly(array: NDArray[_A]) -> NDArray[_A]:
    """Lock ``array`` against writes (in place) and return it."""
    array.setflags(write=False)
    return array


def frozen_mapping(items: Mapping[_K, _V]) -> Mapping[_K, _V]:
    """Return a read-only view of a new dict of ``items``."""
    return MappingProxyType(dict(items))
