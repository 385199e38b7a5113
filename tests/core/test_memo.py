"""The digest memo: a result is computed once per text and scope while remembered; bounded in
entries; long texts are computed every time; only digests are kept; safe across threads."""

from __future__ import annotations

import threading

import pytest

from ztai.core.memo import DigestMemo


class Counting:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, text: str) -> tuple[str, int]:
        self.calls.append(text)
        return text.upper(), len(self.calls)


def test_a_text_is_computed_once_per_scope() -> None:
    memo: DigestMemo[tuple[str, int]] = DigestMemo()
    compute = Counting()
    first = memo.get("hello", compute, "user")
    assert memo.get("hello", compute, "user") == first
    assert memo.get("hello", compute, "document") == ("HELLO", 2)  # another scope: computed
    assert memo.get("hello!", compute, "user") == ("HELLO!", 3)
    assert compute.calls == ["hello", "hello", "hello!"]


def test_the_least_recently_used_text_goes_first() -> None:
    memo: DigestMemo[tuple[str, int]] = DigestMemo(max_entries=2)
    compute = Counting()
    for text in ("a", "b", "a", "c"):  # "b" is the oldest when "c" comes
        memo.get(text, compute)
    memo.get("a", compute)
    memo.get("b", compute)
    assert compute.calls == ["a", "b", "c", "b"]
    assert len(memo) == 2


def test_long_texts_are_computed_every_time() -> None:
    memo: DigestMemo[tuple[str, int]] = DigestMemo(max_chars=10)
    compute = Counting()
    for text in ("x" * 11, "x" * 11, "x" * 10, "x" * 10):
        memo.get(text, compute)
    assert len(compute.calls) == 3
    assert len(memo) == 1


def test_only_digests_are_kept() -> None:
    memo: DigestMemo[tuple[str, int]] = DigestMemo()
    memo.get("a secret prompt \ud800", Counting(), "user")
    ((scope, digest),) = memo.keys()
    assert scope == "user"
    assert isinstance(digest, bytes)
    assert len(digest) == 16
    assert b"secret" not in digest


@pytest.mark.parametrize(("entries", "chars"), [(0, 10), (-1, 10), (1, -1)])
def test_bad_bounds_are_refused(entries: int, chars: int) -> None:
    with pytest.raises(ValueError, match="max_entries"):
        DigestMemo(max_entries=entries, max_chars=chars)


def test_threads_sharing_a_memo_get_the_texts_own_results() -> None:
    memo: DigestMemo[str] = DigestMemo(max_entries=50)
    texts = [f"text {i}" for i in range(200)]
    wrong: list[str] = []

    def work() -> None:
        for _ in range(5):
            for text in texts:
                if memo.get(text, str.upper) != text.upper():
                    wrong.append(text)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert len(memo) == 50
