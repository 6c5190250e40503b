"""The per-process memo of run documents: budget, lifetime, least recently used out, prefixes dropped."""

from __future__ import annotations

import time

import pytest

from spacecomputer.api._memo import DocumentMemo
from spacecomputer.errors import InvalidInputError


def test_kept_text_comes_back_until_it_expires() -> None:
    memo = DocumentMemo(max_chars=100, ttl_s=0.2)
    memo.put("user:a:analysis:1:metrics_json", "x" * 10)
    assert memo.get("user:a:analysis:1:metrics_json") == "x" * 10
    assert memo.get("user:a:analysis:2:metrics_json") is None
    time.sleep(0.25)
    assert memo.get("user:a:analysis:1:metrics_json") is None
    assert (len(memo), memo.chars) == (0, 0)


def test_the_least_recently_read_goes_first_beyond_the_budget() -> None:
    memo = DocumentMemo(max_chars=30, ttl_s=60.0)
    for key in "abc":
        memo.put(key, key * 10)
    assert memo.get("a") == "a" * 10  # now b is the least recently used
    memo.put("d", "d" * 10)
    assert [memo.get(key) is not None for key in "abcd"] == [True, False, True, True]
    assert memo.chars == 30


def test_a_text_over_the_budget_is_not_kept_and_replaces_nothing_else() -> None:
    memo = DocumentMemo(max_chars=10, ttl_s=60.0)
    memo.put("small", "s" * 4)
    memo.put("big", "b" * 11)
    assert (memo.get("small"), memo.get("big"), memo.chars) == ("s" * 4, None, 4)
    memo.put("small", "t" * 6)  # a new text for a key replaces the old one in the count
    assert (memo.get("small"), memo.chars) == ("t" * 6, 6)


def test_drop_prefix_forgets_one_analysis_or_one_user() -> None:
    memo = DocumentMemo()
    for key in ("user:a:analysis:1:results", "user:a:analysis:1:events", "user:a:analysis:2:results", "user:b:x"):
        memo.put(key, "{}")
    assert memo.drop_prefix("user:a:analysis:1:") == 2
    assert memo.drop_prefix("user:a:") == 1
    assert (len(memo), memo.get("user:b:x")) == (1, "{}")


@pytest.mark.parametrize(("max_chars", "ttl_s"), [(0, 1.0), (10, 0.0), (10, float("nan"))])
def test_bad_settings_are_refused(max_chars: int, ttl_s: float) -> None:
    with pytest.raises(InvalidInputError, match="max_chars"):
        DocumentMemo(max_chars=max_chars, ttl_s=ttl_s)
