from __future__ import annotations

import unicodedata

import pytest

from spacecomputer.api.security import (
    PasswordHasher,
    check_password_policy,
    hash_password,
    password_policy_problems,
    verify_password,
)
from spacecomputer.errors import InvalidInputError

GOOD = "Tr0ubadour-and-horse"


@pytest.fixture(scope="module")
def cheap() -> PasswordHasher:
    """A low-cost argon2id hasher: the tests check behaviour, not cost."""
    return PasswordHasher(time_cost=1, memory_cost_kib=1024, parallelism=1)


def test_hash_is_salted_argon2id_and_verifies(cheap: PasswordHasher) -> None:
    first, second = cheap.hash(GOOD), cheap.hash(GOOD)
    assert first.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert first != second
    assert cheap.verify(GOOD, first) == (True, None)
    assert cheap.verify(GOOD + "!", first) == (False, None)
    assert cheap.verify(GOOD.lower(), first).ok is False


def test_default_cost_is_rfc_9106_low_memory() -> None:
    stored = hash_password(GOOD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(GOOD, stored) == (True, None)
    assert verify_password("wrong password 1", stored) == (False, None)


def test_unicode_is_normalised(cheap: PasswordHasher) -> None:
    composed = "Caf\u00e9-au-lait-42"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert cheap.verify(decomposed, cheap.hash(composed)).ok


def test_outdated_hash_is_replaced_on_login(cheap: PasswordHasher) -> None:
    stronger = PasswordHasher(time_cost=2, memory_cost_kib=2048, parallelism=1)
    old = cheap.hash(GOOD)
    ok, new_hash = stronger.verify(GOOD, old)
    assert ok
    assert new_hash is not None
    assert new_hash.startswith("$argon2id$v=19$m=2048,t=2,p=1$")
    assert stronger.verify(GOOD, new_hash) == (True, None)
    assert stronger.verify("not it at all 9", old) == (False, None)


@pytest.mark.parametrize("stored", [None, "", "plaintext-password", "$2b$12$abcdefghijklmnopqrstuv"])
def test_missing_or_foreign_hash_never_verifies(cheap: PasswordHasher, stored: str | None) -> None:
    assert cheap.verify(GOOD, stored) == (False, None)


@pytest.mark.parametrize(
    "settings",
    [{"time_cost": 0}, {"parallelism": 0}, {"memory_cost_kib": 7}, {"time_cost": True}, {"memory_cost_kib": 1.5}],
)
def test_hasher_settings_are_validated(settings: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        PasswordHasher(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "password", [GOOD, "correct horse battery", "abcdefgh12", "ÉTÉ-été-2024", "pässwörd mit leerzeichen"]
)
def test_acceptable_passwords(password: str) -> None:
    assert password_policy_problems(password, email="someone@example.com") == []
    check_password_policy(password)


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("Abc12345!", ["too_short"]),
        ("Ab1-" + "x" * 253, ["too_long"]),
        ("abcdefghijkl", ["one_character_class"]),
        ("1234567890123", ["one_character_class"]),
        ("ababababab12", ["too_few_distinct_characters"]),
        ("Password\x001234", ["control_characters"]),
        ("my-jdoe-password-7", ["contains_email"]),
        ("JDOE@Example.com-x", ["contains_email"]),
        ("aaaa", ["too_short", "one_character_class", "too_few_distinct_characters"]),
    ],
)
def test_policy_names_every_broken_rule(password: str, problems: list[str]) -> None:
    assert password_policy_problems(password, email="jdoe@example.com") == problems
    with pytest.raises(InvalidInputError) as caught:
        check_password_policy(password, email="jdoe@example.com")
    assert caught.value.details == {"field": "password", "reasons": problems}
    assert caught.value.message.startswith("password rejected: ")


def test_short_local_part_is_not_held_against_the_password() -> None:
    assert password_policy_problems("al-and-friends-9", email="al@example.com") == []


def test_length_counts_normalised_characters() -> None:
    # Ten fullwidth characters normalise (NFKC) to ten ASCII ones: still ten, so accepted.
    assert password_policy_problems("Ａｂｃｄｅ１２３４５") == []
    # Eight characters typed, thirteen after the ligatures "ﬁ" expand: the normalised length counts.
    assert password_policy_problems("ﬁﬁﬁﬁﬁ123") == []
    assert password_policy_problems("ﬁﬁﬁ1") == ["too_short", "too_few_distinct_characters"]
