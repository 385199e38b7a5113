"""An error's message goes into the audit event (its ``error`` and the deny's reason), and a
message may quote the request: a path through its keys, where a key may be a credential. The
audit log keeps such messages with what a secrets rule finds masked; the client, who sent the
key, still gets the message as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gateway.harness import auth, chat, harness
from ztai.core.errors import BadRequest
from ztai.gateway.trail import _MAX_AUDITED, _as_audited

pytestmark = pytest.mark.anyio

AWS_KEY = "AKIAZ3MZQ7YWRT4XPLNV"


def _nested(levels: int) -> Any:
    value: Any = "v"
    for _ in range(levels):
        value = {"k": value}
    return value


@pytest.mark.parametrize("body", [
    {"metadata": {f"key {AWS_KEY}": _nested(40)}},
    {"messages": [{"role": "user", "content": "hi", f"x {AWS_KEY}": _nested(40)}]},
], ids=["metadata", "a message's extra field"])
async def test_a_credential_in_a_bad_requests_path_is_not_audited(
        tmp_path: Path, body: dict[str, Any]) -> None:
    """Found 2026-11-28: the 400 for an object nested too deep names its path, and the path
    held the key in clear, in the event's error and in the deny's reason."""
    async with harness(tmp_path) as h:
        response = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                       json={**chat(), **body})
        event = h.last_event()
    assert response.status_code == 400
    assert AWS_KEY in response.json()["error"]["message"]  # the client's own request
    assert AWS_KEY not in str(event)
    assert "[secret.aws-access-token]" in event["error"]
    assert event["error"] in event["decision"]["reasons"]
    assert "nested more than" in event["error"]


def test_a_message_without_credentials_is_kept_as_it_is() -> None:
    error = BadRequest("'messages[0].content' must be a string or an array of parts")
    assert _as_audited(error) == f"{error.code}: {error.message}"


def test_a_long_message_is_cut_after_it_is_masked() -> None:
    """A key across the cut is masked whole, not kept in part."""
    error = BadRequest("x" * (_MAX_AUDITED - 30) + AWS_KEY + "y" * 500)
    audited = _as_audited(error)
    assert "AKIAZ3MZ" not in audited
    assert len(audited) == _MAX_AUDITED + 1
    assert audited.endswith("…")
