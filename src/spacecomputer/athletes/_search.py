"""Similarity search over motions: which stored clips move most like this one.

Two stages (our own design, the usual shape of retrieval over time series): a cheap fixed-length
*descriptor* narrows the index to a few candidates, then dynamic time warping (DTW) on the angle trajectories
orders them.

Signature (our own definition)
------------------------------
The joint angles :data:`DESCRIPTOR_ANGLES` of a motion, each linearly interpolated in time onto
:data:`SIGNATURE_SAMPLES` instants evenly spaced from the first to the last frame where any of them is known:
an (S, K) array in degrees. Resampling to a fixed length makes the signature independent of frame rate and
duration (a slow and a fast repetition of one movement give similar signatures). Unknown frames inside an
angle's observed span are interpolated; before its first and after its last known frame the angle is held
constant.

Missing angles
--------------
An angle a motion does not observe at all is filled so that every signature has the same K columns: with the
same angle of the other side (``left_knee_flexion`` ← ``right_knee_flexion``; in a cyclic movement the other
side does the same thing half a cycle later, which the descriptor below does not see and DTW partly absorbs),
or, when both sides are missing (or for a trunk angle), with 0° throughout — the anatomical neutral posture,
where every angle of :func:`spacecomputer.biomech.joint_angles` is zero.

Descriptor (our own definition)
-------------------------------
For each angle of the signature, in :data:`DESCRIPTOR_ANGLES` order, the :data:`DESCRIPTOR_FEATURES`: its
mean, standard deviation, 10th and 90th percentiles over the S samples, and the amplitudes of the first
:data:`FOURIER_COEFFICIENTS` Fourier components of the mean-removed signature, ``2 |X_j| / S`` (degrees: the
amplitude of a sinusoid of ``j`` cycles over the clip). Entry ``descriptor[k * F + f]`` is feature ``f`` of
angle ``k`` (F features per angle). None of these depends on where in the clip a phase starts: the
statistics ignore order altogether and the Fourier amplitudes are unchanged by a circular shift.

Search
------
Descriptors are standardised with the index's per-dimension mean and standard deviation (a dimension that is
constant over the index is left unscaled); the ``candidates`` entries nearest to the query in Euclidean
distance are re-ranked by the multidimensional DTW distance between signatures (dtaidistance's C
implementation, a Sakoe–Chiba band of ``window`` samples; degrees: the root of the summed squared angle
differences along the warping path).
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from dtaidistance import dtw_ndim
from numpy.typing import ArrayLike, NDArray

from spacecomputer.athletes._motion import COMPARED_ANGLES, Motion, _other_side
from spacecomputer.errors import InsufficientDataError, InvalidInputError, NotFoundError, OutputError

__all__ = [
    "DEFAULT_DTW_WINDOW",
    "DESCRIPTOR_ANGLES",
    "DESCRIPTOR_FEATURES",
    "FOURIER_COEFFICIENTS",
    "SIGNATURE_SAMPLES",
    "SearchHit",
    "SimilarityIndex",
    "motion_descriptor",
    "motion_signature",
    "signature_descriptor",
]

DESCRIPTOR_ANGLES: tuple[str, ...] = tuple(COMPARED_ANGLES)
"""Joint angles of signatures and descriptors, in column order (all the compared angles)."""
SIGNATURE_SAMPLES = 64
"""Samples S of a signature (module docstring)."""
FOURIER_COEFFICIENTS = 4
"""Fourier amplitudes per angle in a descriptor (components 1 to 4: one to four cycles over the clip)."""
DESCRIPTOR_FEATURES: tuple[str, ...] = (
    "mean_deg",
    "sd_deg",
    "p10_deg",
    "p90_deg",
    *(f"fourier_{j}_amplitude_deg" for j in range(1, FOURIER_COEFFICIENTS + 1)),
)
"""Features of one angle in a descriptor, in order; a descriptor has ``len(DESCRIPTOR_ANGLES) × 8`` entries."""
DEFAULT_DTW_WINDOW = 8
"""Sakoe–Chiba band, samples: a signature sample aligns with samples at most 8 of 64 (1/8 of the clip) away
from the diagonal (our own choice: room for a phase offset, not for matching unrelated parts)."""

_FORMAT_VERSION = 1
_CONSTANT_SD = 1e-6
"""A descriptor dimension whose standard deviation over the index is below this is not scaled."""


@dataclass(frozen=True)
class SearchHit:
    """One result of :meth:`SimilarityIndex.search`.

    Attributes
    ----------
    clip_id
        The stored entry's id.
    movement
        Its movement family, ``None`` when not known.
    rank
        1 for the most similar.
    dtw_distance
        DTW distance between the query's and the entry's signatures, degrees (module docstring).
    descriptor_distance
        Euclidean distance between the standardised descriptors (dimensionless).

    """

    clip_id: str
    movement: str | None
    rank: int
    dtw_distance: float
    descriptor_distance: float


def motion_signature(motion: Motion) -> NDArray[np.float32]:
    """Return the (S, K) signature of ``motion``: its angles resampled to S instants, degrees (module docstring).

    Raises
    ------
    InsufficientDataError
        If fewer than two frames have any of the :data:`DESCRIPTOR_ANGLES` known.

    """
    times = np.asarray(motion.timestamps_s, dtype=np.float64)
    observed = {name: np.asarray(motion.angles_deg[name], dtype=np.float64) for name in DESCRIPTOR_ANGLES
                if name in motion.angles_deg}  # fmt: skip
    known_rows = np.zeros(times.shape, dtype=bool)
    for values in observed.values():
        known_rows |= np.isfinite(values)
    rows = np.flatnonzero(known_rows)
    if rows.size < 2:
        raise InsufficientDataError(
            f"motion {motion.name!r} has {rows.size} frames with a known joint angle; a signature needs 2",
            details={"frames_with_angle": int(rows.size), "needed": 2},
        )
    grid = np.linspace(times[rows[0]], times[rows[-1]], SIGNATURE_SAMPLES)
    resampled: dict[str, NDArray[np.float64]] = {}
    for name, values in observed.items():
        finite = np.isfinite(values)
        if finite.any():
            resampled[name] = np.interp(grid, times[finite], values[finite])
    signature = np.zeros((SIGNATURE_SAMPLES, len(DESCRIPTOR_ANGLES)), dtype=np.float32)
    for column, name in enumerate(DESCRIPTOR_ANGLES):
        filled = resampled.get(name, resampled.get(_other_side(name)))
        if filled is not None:
            signature[:, column] = filled
    return signature


def signature_descriptor(signatures: ArrayLike) -> NDArray[np.float32]:
    """Return the descriptors of (..., S, K) signatures: (..., K × 8) (module docstring).

    Examples
    --------
    A circular shift of the samples leaves the descriptor unchanged:

    >>> import numpy as np
    >>> t = np.arange(SIGNATURE_SAMPLES) / SIGNATURE_SAMPLES
    >>> signature = 40.0 + 30.0 * np.sin(2 * np.pi * 2 * t)[:, None] * np.ones(len(DESCRIPTOR_ANGLES))
    >>> d = signature_descriptor(signature)
    >>> bool(np.allclose(d, signature_descriptor(np.roll(signature, 11, axis=0)), atol=1e-4))
    True
    >>> [round(float(v), 3) for v in d[:2]] + [round(float(d[5]), 3)]  # mean, sd, 2-cycle amplitude
    [40.0, 21.213, 30.0]

    Raises
    ------
    InvalidInputError
        If the last two axes are not (:data:`SIGNATURE_SAMPLES`, ``len(DESCRIPTOR_ANGLES)``) or a value is not
        finite.

    """
    values = _checked_signatures(signatures, batch=False)
    mean = values.mean(axis=-2)
    spread = values.std(axis=-2)
    p10, p90 = np.percentile(values, [10.0, 90.0], axis=-2)
    spectrum = np.abs(np.fft.rfft(values - mean[..., None, :], axis=-2))
    amplitudes = spectrum[..., 1 : FOURIER_COEFFICIENTS + 1, :] * (2.0 / SIGNATURE_SAMPLES)
    features = np.stack([mean, spread, p10, p90, *np.moveaxis(amplitudes, -2, 0)], axis=-1)
    return features.reshape(*values.shape[:-2], -1).astype(np.float32)


def motion_descriptor(motion: Motion) -> NDArray[np.float32]:
    """Return the (D,) descriptor of ``motion`` (module docstring), D = ``len(DESCRIPTOR_ANGLES) × 8``.

    Raises
    ------
    InsufficientDataError
        As :func:`motion_signature`.

    """
    return signature_descriptor(motion_signature(motion))


class SimilarityIndex:
    """Stored motions (id, movement family, descriptor, signature) to search for the most similar ones.

    Entries live in numpy arrays: ids and movements (``""`` for unknown) as unicode arrays, descriptors
    (N, D) and signatures (N, S, K) as float32. Build one with :meth:`add`, :meth:`from_arrays` or
    :meth:`load`.
    """

    def __init__(self) -> None:
        self._ids: NDArray[np.str_] = np.array([], dtype=np.str_)
        self._movements: NDArray[np.str_] = np.array([], dtype=np.str_)
        self._signatures = np.zeros((0, SIGNATURE_SAMPLES, len(DESCRIPTOR_ANGLES)), dtype=np.float32)
        self._descriptors = np.zeros((0, len(DESCRIPTOR_ANGLES) * len(DESCRIPTOR_FEATURES)), dtype=np.float32)
        self._known_ids: set[str] = set()
        self._scaling: tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]] | None = None

    def __len__(self) -> int:
        return int(self._ids.size)

    @property
    def clip_ids(self) -> tuple[str, ...]:
        """Ids of the entries, in insertion order."""
        return tuple(str(clip_id) for clip_id in self._ids)

    @property
    def movements(self) -> tuple[str, ...]:
        """Movement families with at least one entry, sorted."""
        return tuple(sorted(str(m) for m in np.unique(self._movements) if m))

    @classmethod
    def from_arrays(
        cls, clip_ids: Sequence[str], signatures: ArrayLike, *, movements: Sequence[str | None] | None = None
    ) -> SimilarityIndex:
        """Build an index from N ids, an (N, S, K) array of signatures (degrees) and N movements (or none).

        The descriptors are computed from the signatures (:func:`signature_descriptor`).

        Raises
        ------
        InvalidInputError
            Shapes that do not match, a value that is not finite, an empty or repeated id.

        """
        index = cls()
        index._append(clip_ids, signatures, movements)
        return index

    def add(self, clip_id: str, motion: Motion, *, movement: str | None = None) -> None:
        """Store ``motion`` as ``clip_id``, in family ``movement`` (default: the motion's own, maybe unknown).

        Raises
        ------
        InvalidInputError
            If ``clip_id`` is empty or already stored.
        InsufficientDataError
            As :func:`motion_signature`.

        """
        family = movement if movement is not None else motion.movement
        self._append([clip_id], motion_signature(motion)[None], [family])

    def search(
        self,
        query: Motion,
        *,
        movement: str | None = "same",
        k: int = 5,
        candidates: int = 25,
        window: int = DEFAULT_DTW_WINDOW,
    ) -> list[SearchHit]:
        """Return the ``k`` stored entries most similar to ``query``, most similar first (module docstring).

        Parameters
        ----------
        query
            The motion to match.
        movement
            Entries searched: ``"same"`` — those of the query's movement family, or all when the query's family
            is unknown; a family name — those of that family; ``None`` — all.
        k
            Hits returned (fewer when fewer entries are searched).
        candidates
            Entries nearest in descriptor distance re-ranked by DTW; at least ``k`` are.
        window
            Sakoe–Chiba band of the DTW, samples of the signature.

        Raises
        ------
        InsufficientDataError
            If the index is empty, or ``query`` has too few known frames (:func:`motion_signature`).
        InvalidInputError
            If ``k``, ``candidates`` or ``window`` is below 1.
        NotFoundError
            If no entry is of the family searched (the message lists those present).

        """
        for name, value in (("k", k), ("candidates", candidates), ("window", window)):
            if value < 1:
                raise InvalidInputError(f"{name} must be at least 1; got {value}", details={name: value})
        if len(self) == 0:
            raise InsufficientDataError("the similarity index is empty: add motions before searching")
        family = query.movement if movement == "same" else movement
        rows = np.arange(len(self)) if family is None else np.flatnonzero(self._movements == family)
        if rows.size == 0:
            raise NotFoundError(
                f"no stored motion of movement {family!r}; the index holds {list(self.movements)}",
                details={"movement": family, "movements": list(self.movements)},
            )
        signature = motion_signature(query)
        return self._ranked(rows, signature, k=k, candidates=max(candidates, k), window=window)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to ``path`` (numpy ``.npz``) atomically: a reader sees the old file or the new one.

        Raises
        ------
        OutputError
            If the file cannot be written (missing folder, no permission, disk full).

        """
        target = Path(path)
        temporary: str | None = None
        try:
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            with os.fdopen(handle, "wb") as stream:
                np.savez(
                    stream,
                    format_version=np.int64(_FORMAT_VERSION),
                    angles=np.array(DESCRIPTOR_ANGLES, dtype=np.str_),
                    clip_ids=self._ids,
                    movements=self._movements,
                    signatures=self._signatures,
                )
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except OSError as error:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
            raise OutputError(f"cannot write the index to {target}: {error}", details={"path": str(target)}) from error

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SimilarityIndex:
        """Read an index written by :meth:`save`.

        Raises
        ------
        NotFoundError
            If ``path`` is not a file.
        InvalidInputError
            If the file is not a saved index, or was saved with other angles or signature length.

        """
        source = Path(path)
        if not source.is_file():
            raise NotFoundError(f"no similarity index at {source}", details={"path": str(source)})
        try:
            with np.load(source, allow_pickle=False) as data:
                version = int(data["format_version"])
                angles = tuple(str(name) for name in data["angles"])
                clip_ids = [str(clip_id) for clip_id in data["clip_ids"]]
                movements: list[str | None] = [str(m) or None for m in data["movements"]]
                signatures = np.asarray(data["signatures"])
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
            raise InvalidInputError(
                f"{source} is not a saved similarity index: {error}", details={"path": str(source)}
            ) from error
        if version != _FORMAT_VERSION or angles != DESCRIPTOR_ANGLES:
            raise InvalidInputError(
                f"{source} holds an index of format {version} over angles {list(angles)}; this version reads "
                f"format {_FORMAT_VERSION} over {list(DESCRIPTOR_ANGLES)}",
                details={"path": str(source), "format_version": version},
            )
        return cls.from_arrays(clip_ids, signatures, movements=movements)

    def _append(self, clip_ids: Sequence[str], signatures: ArrayLike, movements: Sequence[str | None] | None) -> None:
        batch = _checked_signatures(signatures, batch=True).astype(np.float32)
        count = batch.shape[0]
        families = [None] * count if movements is None else list(movements)
        if len(clip_ids) != count or len(families) != count:
            raise InvalidInputError(
                f"expected one id and one movement per signature ({count}); got {len(clip_ids)} ids and "
                f"{len(families)} movements",
                details={"signatures": count, "clip_ids": len(clip_ids), "movements": len(families)},
            )
        new_ids = [str(clip_id) for clip_id in clip_ids]
        counts = Counter(new_ids)
        repeated = sorted({c for c in counts if c in self._known_ids or counts[c] > 1})
        if repeated or not all(new_ids):
            raise InvalidInputError(
                f"clip ids must be non-empty and unique in the index; repeated: {repeated[:10]}",
                details={"repeated": repeated[:10]},
            )
        self._ids = np.concatenate([self._ids, np.array(new_ids, dtype=np.str_)])
        self._movements = np.concatenate([self._movements, np.array([m or "" for m in families], dtype=np.str_)])
        self._signatures = np.concatenate([self._signatures, batch])
        self._descriptors = np.concatenate([self._descriptors, signature_descriptor(batch)])
        self._known_ids.update(new_ids)
        self._scaling = None

    def _standardised(self) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        """(mean, sd, standardised descriptors) of the index, computed once after each change."""
        if self._scaling is None:
            mean = self._descriptors.mean(axis=0)
            sd = self._descriptors.std(axis=0)
            sd = np.where(sd > _CONSTANT_SD, sd, 1.0).astype(np.float32)
            self._scaling = (mean, sd, (self._descriptors - mean) / sd)
        return self._scaling

    def _ranked(
        self, rows: NDArray[np.intp], signature: NDArray[np.float32], *, k: int, candidates: int, window: int
    ) -> list[SearchHit]:
        mean, sd, standardised = self._standardised()
        query = (signature_descriptor(signature) - mean) / sd
        difference = standardised[rows] - query
        distance = np.sqrt(np.einsum("ij,ij->i", difference, difference))
        if candidates < rows.size:
            nearest = np.argpartition(distance, candidates - 1)[:candidates]
        else:
            nearest = np.arange(rows.size)
        query_series = signature.astype(np.float64)
        warped = np.array(
            [
                float(
                    dtw_ndim.distance(query_series, self._signatures[row].astype(np.float64), window=window, use_c=True)
                )
                for row in rows[nearest]
            ]
        )
        order = np.lexsort((distance[nearest], warped))[:k]
        return [
            SearchHit(
                clip_id=str(self._ids[rows[nearest[i]]]),
                movement=str(self._movements[rows[nearest[i]]]) or None,
                rank=rank,
                dtw_distance=float(warped[i]),
                descriptor_distance=float(distance[nearest[i]]),
            )
            for rank, i in enumerate(order, start=1)
        ]


def _checked_signatures(signatures: ArrayLike, *, batch: bool) -> NDArray[np.float64]:
    values = np.asarray(signatures, dtype=np.float64)
    expected = (SIGNATURE_SAMPLES, len(DESCRIPTOR_ANGLES))
    if values.ndim < 2 or values.shape[-2:] != expected or (batch and values.ndim != 3):
        shape = f"(N, {expected[0]}, {expected[1]})" if batch else f"(..., {expected[0]}, {expected[1]})"
        raise InvalidInputError(
            f"signatures must have shape {shape} (samples × angles, degrees); got {values.shape}",
            details={"shape": list(values.shape)},
        )
    if not np.isfinite(values).all():
        raise InvalidInputError("signatures must be finite degrees; got NaN or infinity")
    return values
