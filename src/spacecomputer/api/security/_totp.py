"""TOTP two-factor authentication (RFC 6238, through ``pyotp``): enrolment and replay-proof verification.

Enrolment: :func:`new_totp_enrolment` draws a 160-bit base32 secret and the ``otpauth://`` URI an authenticator
app reads from a QR code. The account should switch two-factor on only after a first code verifies against the
pending secret, so a mistyped enrolment cannot lock anyone out.

Verification: 6-digit codes, 30-second steps, accepted for the current step and one step either side (clock drift
between phone and server); every candidate is compared in constant time. A code that matched is *spent*: its
(account, time step) pair is counted in a :class:`TotpReplayStore` for as long as the code could still be
accepted, and a second use — a code read over someone's shoulder, or intercepted and replayed — is refused
(RFC 6238 §5.2: the verifier must not accept the second attempt of an OTP after a successful validation). The
store is anything with the ``incr`` of :class:`~spacecomputer.storage.Cache`, so several API instances sharing a
Redis cache share the spent codes.

Guessing a 6-digit code with three steps open succeeds with probability 3 in 10⁶ per try: the login route must
rate-limit attempts per account.
"""

from __future__ import annotations

import binascii
import hmac
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import pyotp

from spacecomputer.api.security._errors import AuthenticationError
from spacecomputer.api.security._refresh import as_utc
from spacecomputer.errors import InvalidInputError

__all__ = [
    "TOTP_DIGITS",
    "TOTP_STEP_S",
    "TotpEnrolment",
    "TotpReplayStore",
    "new_totp_enrolment",
    "totp_provisioning_uri",
    "verify_totp",
]

TOTP_DIGITS = 6
"""Digits per code (what every authenticator app shows by default)."""
TOTP_STEP_S = 30
"""Length of a time step, seconds (RFC 6238's default)."""
_SECRET_LENGTH = 32
"""Base32 characters of a new secret: 160 bits, the HMAC-SHA1 output size."""


class TotpReplayStore(Protocol):
    """Counts uses of a code; :class:`~spacecomputer.storage.Cache` (memory or Redis) already has this method."""

    async def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        """Add ``amount`` to the counter at ``key`` (0 if absent), give a new key ``ttl_s`` seconds, return it."""
        ...


@dataclass(frozen=True)
class TotpEnrolment:
    """A new TOTP secret and the URI to show as a QR code."""

    secret: str = field(repr=False)
    """Base32 secret to store with the account (encrypted at rest where the deployment can)."""
    provisioning_uri: str = field(repr=False)
    """``otpauth://totp/…`` for the authenticator app."""


def _totp(secret: str) -> pyotp.TOTP:
    try:
        return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_S)  # decodes and checks the secret
    except (ValueError, TypeError, binascii.Error):
        raise InvalidInputError("the TOTP secret is not base32 of at least 112 bits") from None


def totp_provisioning_uri(secret: str, *, account_name: str, issuer: str = "Space Computer") -> str:
    """Return the ``otpauth://`` URI for ``secret``, labelled ``issuer:account_name`` in the app."""
    if not account_name or not issuer:
        raise InvalidInputError("account_name and issuer must be non-empty")
    return _totp(secret).provisioning_uri(name=account_name, issuer_name=issuer)


def new_totp_enrolment(*, account_name: str, issuer: str = "Space Computer") -> TotpEnrolment:
    """Return a new random secret and its provisioning URI for ``account_name`` (usually the e-mail)."""
    secret = pyotp.random_base32(_SECRET_LENGTH)
    return TotpEnrolment(
        secret=secret, provisioning_uri=totp_provisioning_uri(secret, account_name=account_name, issuer=issuer)
    )


async def verify_totp(
    secret: str,
    code: str,
    *,
    store: TotpReplayStore,
    replay_key: str,
    now: datetime | None = None,
    window_steps: int = 1,
) -> int:
    """Return the time step ``code`` matched if it is valid and unused for ``replay_key``, else raise.

    Parameters
    ----------
    secret
        The account's base32 TOTP secret.
    code
        What the user typed; spaces are ignored.
    store
        Where spent codes are counted (shared by every API instance).
    replay_key
        Names the account in ``store`` (e.g. the user id); the key used is ``totp:<replay_key>:<step>``.
    now
        Verification time (timezone-aware; default: the current time).
    window_steps
        Steps accepted either side of the current one (default 1: ±30 s).

    Raises
    ------
    AuthenticationError
        Wrong or malformed code (``reason="totp_invalid"``) or a code already used (``"totp_replayed"``).

    """
    if isinstance(window_steps, bool) or not isinstance(window_steps, int) or not 0 <= window_steps <= 10:
        raise InvalidInputError(f"window_steps must be an integer in 0–10; got {window_steps!r}")
    totp = _totp(secret)
    typed = "".join(code.split()) if isinstance(code, str) else ""
    now_s = as_utc(now).timestamp()
    current_step = math.floor(now_s / TOTP_STEP_S)
    matched: int | None = None
    if len(typed) == TOTP_DIGITS and typed.isascii() and typed.isdigit():
        for step in range(current_step - window_steps, current_step + window_steps + 1):
            if hmac.compare_digest(totp.generate_otp(step), typed) and matched is None:
                matched = step
    if matched is None:
        raise AuthenticationError("the one-time code is not valid", reason="totp_invalid")
    # Keep the spent mark until the code's step has left the window everywhere, plus one step of clock skew.
    ttl_s = (matched + window_steps + 2) * TOTP_STEP_S - now_s
    if await store.incr(f"totp:{replay_key}:{matched}", ttl_s=ttl_s) > 1:
        raise AuthenticationError("the one-time code was already used; wait for the next one", reason="totp_replayed")
    return matched
