"""Password hashing (argon2id through ``pwdlib``) and the password policy.

Hashing
-------
:class:`PasswordHasher` wraps ``pwdlib``'s argon2 hasher; the default cost is argon2-cffi's, the low-memory
profile of RFC 9106 (argon2id, time cost 3, 64 MiB, parallelism 4). Passwords are NFKC-normalised before
hashing and verifying, so the same password typed on two keyboards (composed or decomposed accents) matches.
:meth:`PasswordHasher.verify` also answers whether the stored hash should be replaced — when it was made with
other parameters than the current ones — and computes the replacement while the plaintext is at hand. Verifying
against ``None`` (no such user) hashes anyway and returns ``False``, so a login for an unknown e-mail takes as
long as one with a wrong password and does not reveal which accounts exist.

Policy (our own definition)
---------------------------
:func:`check_password_policy` accepts a password when, after NFKC normalisation, it

- has 10 to 256 characters (the upper bound keeps hashing cheap to request, far above any passphrase);
- mixes at least two character classes of lowercase letters, uppercase letters, digits and everything else
  (symbols, spaces, letters without case);
- has at least 5 different characters;
- contains no control characters;
- does not contain the account's e-mail address or its local part (when that part has 3 or more characters),
  ignoring case.

A rejection is an :class:`~spacecomputer.errors.InvalidInputError` whose ``details["reasons"]`` lists every rule
broken (codes such as ``"too_short"``), so a form can show them all at once.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import NamedTuple

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

from spacecomputer.errors import InvalidInputError

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "PasswordCheck",
    "PasswordHasher",
    "check_password_policy",
    "hash_password",
    "password_policy_problems",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 10
"""Fewest characters a password may have (our own policy)."""
MAX_PASSWORD_LENGTH = 256
"""Most characters a password may have (our own policy)."""
_MIN_CLASSES = 2
_MIN_DISTINCT = 5
_MIN_LOCAL_PART = 3


class PasswordCheck(NamedTuple):
    """The outcome of verifying a password.

    Attributes
    ----------
    ok
        Whether the password matches.
    new_hash
        A replacement hash made with the current parameters, to store, when ``ok`` and the stored one is outdated;
        else ``None``.

    """

    ok: bool
    new_hash: str | None


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


class PasswordHasher:
    """Argon2id password hashing with a given cost.

    Parameters
    ----------
    time_cost
        Argon2 passes over memory (default 3).
    memory_cost_kib
        Memory per hash, KiB (default 65536 = 64 MiB).
    parallelism
        Argon2 lanes (default 4).

    """

    def __init__(self, *, time_cost: int = 3, memory_cost_kib: int = 65536, parallelism: int = 4) -> None:
        for name, value, low in (("time_cost", time_cost, 1), ("parallelism", parallelism, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidInputError(f"{name} must be an integer ≥ {low}; got {value!r}")
        if (
            isinstance(memory_cost_kib, bool)
            or not isinstance(memory_cost_kib, int)
            or memory_cost_kib < 8 * parallelism
        ):
            raise InvalidInputError(f"memory_cost_kib must be an integer ≥ 8 × parallelism; got {memory_cost_kib!r}")
        self.time_cost, self.memory_cost_kib, self.parallelism = time_cost, memory_cost_kib, parallelism
        self._hash = PasswordHash(
            (Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism),)
        )
        self._dummy_hash = self._hash.hash("not a password: equalises the time of unknown-user logins")

    def __repr__(self) -> str:
        return (
            f"PasswordHasher(time_cost={self.time_cost}, memory_cost_kib={self.memory_cost_kib}, "
            f"parallelism={self.parallelism})"
        )

    def hash(self, password: str) -> str:
        """Return the argon2id hash (PHC string ``$argon2id$v=19$m=…``) of ``password``."""
        return self._hash.hash(_normalise(password))

    def verify(self, password: str, password_hash: str | None) -> PasswordCheck:
        """Check ``password`` against ``password_hash`` (``None``: no such account — always ``ok=False``).

        A stored hash that is not argon2 (unreadable) counts as a mismatch rather than an error.
        """
        if password_hash is None:
            self._hash.verify(_normalise(password), self._dummy_hash)
            return PasswordCheck(ok=False, new_hash=None)
        try:
            ok, new_hash = self._hash.verify_and_update(_normalise(password), password_hash)
        except UnknownHashError:
            return PasswordCheck(ok=False, new_hash=None)
        return PasswordCheck(ok=ok, new_hash=new_hash)


@lru_cache(maxsize=1)
def _default_hasher() -> PasswordHasher:
    """Return the process's default hasher, built on first use (its dummy hash costs one argon2 run)."""
    return PasswordHasher()


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password`` with the default cost (:class:`PasswordHasher`)."""
    return _default_hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> PasswordCheck:
    """Check ``password`` against ``password_hash`` with the default cost; see :meth:`PasswordHasher.verify`."""
    return _default_hasher().verify(password, password_hash)


_MESSAGES = {
    "too_short": f"use at least {MIN_PASSWORD_LENGTH} characters",
    "too_long": f"use at most {MAX_PASSWORD_LENGTH} characters",
    "one_character_class": "mix at least two of lowercase letters, uppercase letters, digits and other characters",
    "too_few_distinct_characters": f"use at least {_MIN_DISTINCT} different characters",
    "control_characters": "remove control characters",
    "contains_email": "do not include your e-mail address",
}


def _character_class(character: str) -> str:
    if character.islower():
        return "lower"
    if character.isupper():
        return "upper"
    return "digit" if character.isdigit() else "other"


def password_policy_problems(password: str, *, email: str | None = None) -> list[str]:
    """Return the codes of the policy rules ``password`` breaks (module docstring), ``[]`` when it passes.

    Examples
    --------
    >>> password_policy_problems("correct horse battery")
    []
    >>> password_policy_problems("aaaaaaaa")
    ['too_short', 'one_character_class', 'too_few_distinct_characters']

    """
    text = _normalise(password)
    problems = []
    if len(text) < MIN_PASSWORD_LENGTH:
        problems.append("too_short")
    if len(text) > MAX_PASSWORD_LENGTH:
        problems.append("too_long")
    if len({_character_class(character) for character in text}) < _MIN_CLASSES:
        problems.append("one_character_class")
    if len(set(text)) < _MIN_DISTINCT:
        problems.append("too_few_distinct_characters")
    if any(unicodedata.category(character) == "Cc" for character in text):
        problems.append("control_characters")
    if email:
        folded, address = text.casefold(), _normalise(email).casefold()
        local_part = address.split("@", 1)[0]
        if address in folded or (len(local_part) >= _MIN_LOCAL_PART and local_part in folded):
            problems.append("contains_email")
    return problems


def check_password_policy(password: str, *, email: str | None = None) -> None:
    """Raise :class:`~spacecomputer.errors.InvalidInputError` listing every rule ``password`` breaks, if any."""
    problems = password_policy_problems(password, email=email)
    if problems:
        raise InvalidInputError(
            "password rejected: " + "; ".join(_MESSAGES[code] for code in problems),
            details={"field": "password", "reasons": problems},
        )
