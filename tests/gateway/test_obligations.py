"""A deny that carries an obligation tells the caller how to get through: step-up is a 401 with
an RFC 9470 challenge; terms and approval are 403s with their own codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gateway.harness import Options, auth, chat, harness
from ztai.policy.bundled import starter_policies

pytestmark = pytest.mark.anyio

OBLIGATING = """
@id("mfa-for-consumer")
@reason("consumer-tier models need multi-factor authentication")
@obligation("step_up")
@acr_values("urn:ztai:mfa")
forbid (principal, action == Action::"invoke_model", resource == Model::"demo-consumer-chat")
unless { context has mfa && context.mfa };

@id("embed-terms")
@reason("accept the embedding terms first")
@obligation("accept_terms")
@terms("embeddings")
forbid (principal, action == Action::"embed", resource);
"""


async def test_step_up_and_terms(tmp_path: Path) -> None:
    texts = {**starter_policies(), "20-obligations.cedar": OBLIGATING}
    async with harness(tmp_path, Options(policy_texts=texts)) as h:
        step_up = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                      json=chat("demo-consumer-chat"))
        terms = await h.client.post("/v1/embeddings", headers=auth(h.keys["alice"]),
                                    json={"model": "demo-embed", "input": "x"})
        plain = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                    json=chat("demo-chat"))
        events = h.events()
    assert step_up.status_code == 401
    challenge = step_up.headers["www-authenticate"]
    assert 'error="insufficient_user_authentication"' in challenge
    assert 'acr_values="urn:ztai:mfa"' in challenge
    assert step_up.json()["error"]["code"] == "insufficient_user_authentication"
    assert terms.status_code == 403
    assert terms.json()["error"]["code"] == "terms_not_accepted"
    assert 'POST /v1/terms/accept with {"app": "embeddings"}' in terms.json()["error"]["message"]
    assert plain.status_code == 200
    assert events[0]["decision"]["obligations"] == [
        {"kind": "step_up", "params": {"acr_values": "urn:ztai:mfa"}}]


APPROVAL = """
@id("finance-needs-approval")
@reason("the finance model needs a just-in-time grant")
@obligation("require_approval")
forbid (principal, action == Action::"invoke_model", resource == Model::"secret-chat")
unless { principal in Group::"finance" };
"""


async def test_require_approval(tmp_path: Path) -> None:
    texts = {**starter_policies(), "20-approval.cedar": APPROVAL}
    async with harness(tmp_path, Options(policy_texts=texts)) as h:
        response = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                       json=chat("secret-chat"))
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "approval_required"
    assert "ztai access request" in error["message"]
