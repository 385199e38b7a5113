"""The admin API: every endpoint runs through the pipeline (authenticated, authorized by Cedar,
audited), validates its body itself, and is documented in OpenAPI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import make_keys
from tests.gateway import jwk_samples
from tests.gateway.harness import Harness, Options, auth, chat, harness
from ztai.cli.serve import init_dir
from ztai.config.settings import load_settings
from ztai.core.clock import SystemClock
from ztai.core.model import PrincipalKind
from ztai.gateway.app import create_app
from ztai.gateway.build import build_parts
from ztai.gateway.metrics import Metrics
from ztai.identity.apikey import KeySpec, issue_key
from ztai.policy.bundled import starter_policies
from ztai.storage.sqlite import SqliteKeyStore

pytestmark = pytest.mark.anyio


def _agent(agent_id: str = "mailer", jwk: Any = None, **extra: Any) -> dict[str, Any]:
    return {"agent_id": agent_id, "sponsor": "alice", "allowed_models": ["demo-chat"],
            "public_jwk": jwk_samples.ed25519_public() if jwk is None else jwk, **extra}


# (operation, method, path, body): every endpoint that needs ``administer``
ADMINISTER = [
    ("keys.list", "GET", "/admin/keys", None),
    ("keys.create", "POST", "/admin/keys", {"principal": "mallory", "kind": "user"}),
    ("keys.revoke", "POST", "/admin/keys/0123456789ab/revoke", None),
    ("agents.list", "GET", "/admin/agents", None),
    ("agents.create", "POST", "/admin/agents", _agent()),
    ("agents.disable", "POST", "/admin/agents/mailer/disable", None),
    ("agents.enable", "POST", "/admin/agents/mailer/enable", None),
    ("agents.delete", "DELETE", "/admin/agents/mailer", None),
    ("agents.kill", "POST", "/admin/agents/mailer/kill", {"reason": "compromised"}),
    ("revocations.list", "GET", "/admin/revocations", None),
    ("revocations.create", "POST", "/admin/revocations",
     {"kind": "user", "subject": "bob", "reason": "left"}),
    ("revocations.delete", "DELETE", "/admin/revocations/user/bob", None),
    ("risk.list", "GET", "/admin/risk", None),
    ("risk.set", "PUT", "/admin/risk/user:bob", {"level": "elevated", "reason": "odd"}),
    ("access.list", "GET", "/admin/access/requests", None),
    ("terms.list", "GET", "/admin/terms/acceptances", None),
    ("policies.list", "GET", "/admin/policies", None),
    ("policies.status", "GET", "/admin/policies/status", None),
    ("approvals.list", "GET", "/admin/approvals", None),
    ("approvals.get", "GET", "/admin/approvals/h-1", None),
    ("approvals.approve", "POST", "/admin/approvals/h-1/approve", {"reason": "fine"}),
    ("approvals.deny", "POST", "/admin/approvals/h-1/deny", {"reason": "no"}),
    ("alerts.list", "GET", "/admin/alerts", None),
    ("alerts.get", "GET", "/admin/alerts/ra-1", None),
    ("alerts.ocsf", "GET", "/admin/alerts/ra-1/ocsf", None),
    ("alerts.dismiss", "POST", "/admin/alerts/ra-1/dismiss", {"reason": "false positive"}),
    ("alerts.unmask", "POST", "/admin/alerts/ra-1/unmask", {"reason": "HR case"}),
]
APPROVE = [("access.approve", "POST", "/admin/access/requests/g-1/approve", None),
           ("access.deny", "POST", "/admin/access/requests/g-1/deny", None)]


async def _call(h: Harness, who: str | None, method: str, path: str,
                body: Any = None) -> httpx.Response:
    headers = auth(h.keys[who]) if who else {}
    return await h.client.request(method, path, headers=headers, json=body)


async def test_a_caller_who_is_not_an_admin_is_refused_and_each_refusal_audited(
        tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        keys_before = len(h.key_store.list_keys())
        for operation, method, path, body in ADMINISTER + APPROVE:
            before = len(h.events())
            response = await _call(h, "alice", method, path, body)
            assert response.status_code == 403, (operation, response.text)
            assert response.headers["x-ztai-exchange-id"]
            events = h.events()
            assert len(events) == before + 1
            event = events[-1]
            assert (event["route"], event["principal"], event["decision"]["effect"]) == (
                f"admin.{operation}", "alice", "deny")
            assert event["details"]["operation"] == operation
            assert event["action"] == ("approve_access" if (operation, method, path, body)
                                       in APPROVE else "administer")
        assert len(h.key_store.list_keys()) == keys_before
        assert h.control.revocations() == []
        assert h.control.list_agents() == []
        assert h.control.risk_levels() == {}


async def test_without_a_key_every_endpoint_answers_401_and_is_audited(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        for operation, method, path, body in [*ADMINISTER, *APPROVE,
                                              ("unknown", "GET", "/admin/nowhere", None)]:
            response = await _call(h, None, method, path, body)
            assert response.status_code == 401, (operation, response.text)
            assert response.headers["www-authenticate"] == 'Bearer realm="ztai"'
            event = h.last_event()
            assert (event["route"], event["principal"], event["status"]) == (
                f"admin.{operation}", None, 401)


async def test_a_credential_that_is_not_a_bearer_key_is_refused_by_the_pipeline(
        tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        response = await h.client.get("/admin/keys", headers={"authorization": "Basic cm9vdA=="})
        event = h.last_event()
    assert response.status_code == 401
    assert (event["route"], event["status"]) == ("admin.keys.list", 401)


async def test_an_unknown_admin_path_is_a_400_inside_the_pipeline(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        response = await _call(h, "admin", "POST", "/admin/keys/all/delete-everything")
        event = h.last_event()
    assert response.status_code == 400
    assert "no admin endpoint POST /admin/keys/all/delete-everything" in response.text
    assert (event["route"], event["principal"], event["status"]) == ("admin.unknown", "root", 400)


async def test_an_issued_key_works_at_once_until_revoked_and_is_never_audited(
        tmp_path: Path) -> None:
    ask = {"principal": "frank", "kind": "user", "groups": ["staff"],
           "attributes": {"dept": "ops"}, "expires_in_s": 3600, "description": "laptop"}
    async with harness(tmp_path) as h:
        created = await _call(h, "admin", "POST", "/admin/keys", ask)
        issued = created.json()
        key = issued["key"]
        used = await h.client.post("/v1/chat/completions", headers=auth(key), json=chat())
        listing = await _call(h, "admin", "GET", "/admin/keys")
        revoked = await _call(h, "admin", "POST", f"/admin/keys/{issued['key_id']}/revoke")
        refused = await h.client.post("/v1/chat/completions", headers=auth(key), json=chat())
        again = await _call(h, "admin", "POST", f"/admin/keys/{issued['key_id']}/revoke")
        audit_log = b"".join(entry.payload for entry in h.audit.read())
        creation = next(e for e in h.events() if e["route"] == "admin.keys.create")
        now = h.clock.now()
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    assert (issued["principal"], issued["kind"], issued["groups"]) == ("frank", "user", ["staff"])
    assert issued["attributes"] == {"dept": "ops"}
    assert issued["expires_at"] == now + 3600
    assert used.status_code == 200
    assert issued["key_id"] in [k["key_id"] for k in listing.json()["data"]]
    assert key not in listing.text
    assert "secret_hash" not in listing.text
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] == now
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "revoked_api_key"
    assert again.status_code == 400
    assert key.encode() not in audit_log
    assert key.rsplit("-", 1)[1].encode() not in audit_log
    assert creation["details"] == {"operation": "keys.create", "target": "user:frank",
                                   "key_id": issued["key_id"]}
    assert (creation["principal"], creation["decision"]["effect"]) == ("root", "allow")


async def test_agents_are_registered_disabled_enabled_and_deleted(tmp_path: Path) -> None:
    jwk = jwk_samples.ed25519_public()
    async with harness(tmp_path) as h:
        created = await _call(h, "admin", "POST", "/admin/agents",
                              _agent(jwk=jwk, groups=["mailers"], expires_in_s=86400))
        duplicate = await _call(h, "admin", "POST", "/admin/agents", _agent())
        disabled = await _call(h, "admin", "POST", "/admin/agents/mailer/disable")
        stored = h.control.get_agent("mailer")
        enabled = await _call(h, "admin", "POST", "/admin/agents/mailer/enable")
        listing = await _call(h, "admin", "GET", "/admin/agents")
        deleted = await _call(h, "admin", "DELETE", "/admin/agents/mailer")
        gone = await _call(h, "admin", "DELETE", "/admin/agents/mailer")
        missing = await _call(h, "admin", "POST", "/admin/agents/mailer/enable")
        remaining = h.control.list_agents()
        now = h.clock.now()
    agent = created.json()
    assert created.status_code == 200
    assert agent["public_jwk"] == jwk
    assert (agent["sponsor"], agent["allowed_models"], agent["groups"]) == (
        "alice", ["demo-chat"], ["mailers"])
    assert agent["expires_at"] == now + 86400
    assert duplicate.status_code == 400
    assert duplicate.json()["error"]["param"] == "agent_id"
    assert disabled.json()["disabled"] is True
    assert stored is not None
    assert stored.disabled
    assert enabled.json()["disabled"] is False
    assert [a["agent_id"] for a in listing.json()["data"]] == ["mailer"]
    assert deleted.json() == {"agent_id": "mailer", "deleted": True}
    assert gone.status_code == 400
    assert missing.status_code == 400
    assert remaining == []


@pytest.mark.parametrize("jwk", [jwk_samples.rsa_public(), jwk_samples.ec_public("P-256"),
                                 jwk_samples.ec_public("P-384")])
async def test_agents_may_register_rsa_and_ec_public_keys(tmp_path: Path, jwk: Any) -> None:
    async with harness(tmp_path) as h:
        response = await _call(h, "admin", "POST", "/admin/agents", _agent(jwk=jwk))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("jwk", "why"), [
    (jwk_samples.ed25519_private(), "private"),
    (jwk_samples.symmetric(), "symmetric"),
    (jwk_samples.rsa_1024_public(), "2048"),
    (jwk_samples.ec_public("P-521"), "curve"),
    ({**jwk_samples.ed25519_public(), "use": "enc"}, "signing"),
    ({"kty": "EC", "crv": "P-256", "x": "abc"}, "not a valid JWK"),
    ({"kty": "nope"}, "kty"),
    ({"kty": "RSA", "e": "AQAB"}, "modulus"),
    ({"kty": "RSA", "n": "\u00fc", "e": "AQAB"}, "base64url"),
    ("not a key", "should be an object"),
])
async def test_agents_with_a_key_that_is_not_public_and_asymmetric_are_refused(
        tmp_path: Path, jwk: Any, why: str) -> None:
    async with harness(tmp_path) as h:
        response = await _call(h, "admin", "POST", "/admin/agents", _agent(jwk=jwk))
        event = h.last_event()
        agents = h.control.list_agents()
    error = response.json()["error"]
    assert response.status_code == 400
    assert error["param"] == "public_jwk"
    assert why in error["message"]
    assert agents == []
    if isinstance(jwk, dict) and "d" in jwk:
        assert jwk["d"] not in response.text
        assert jwk["d"] not in str(event)
    assert (event["route"], event["status"]) == ("admin.agents.create", 400)


async def test_revoking_a_user_applies_on_the_next_request_until_lifted(tmp_path: Path) -> None:
    revocation = {"kind": "user", "subject": "bob", "reason": "left the company"}
    async with harness(tmp_path) as h:
        bob = auth(h.keys["bob"])
        revoked = await _call(h, "admin", "POST", "/admin/revocations", revocation)
        refused = await h.client.post("/v1/chat/completions", headers=bob, json=chat())
        listing = await _call(h, "admin", "GET", "/admin/revocations")
        lifted = await _call(h, "admin", "DELETE", "/admin/revocations/user/bob")
        allowed = await h.client.post("/v1/chat/completions", headers=bob, json=chat())
        again = await _call(h, "admin", "DELETE", "/admin/revocations/user/bob")
        unknown_kind = await _call(h, "admin", "DELETE", "/admin/revocations/robot/bob")
        past = await _call(h, "admin", "POST", "/admin/revocations",
                           {**revocation, "until": h.clock.now() - 1})
    assert revoked.status_code == 200
    assert revoked.json()["by"] == "user:root"
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "principal_disabled"
    assert [(r["kind"], r["subject"]) for r in listing.json()["data"]] == [("user", "bob")]
    assert lifted.json() == {"kind": "user", "subject": "bob", "lifted": True}
    assert allowed.status_code == 200
    assert again.status_code == 400
    assert unknown_kind.status_code == 400
    assert unknown_kind.json()["error"]["param"] == "kind"
    assert past.status_code == 400
    assert past.json()["error"]["param"] == "until"


async def test_a_risk_level_set_by_an_admin_is_listed(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        put = await _call(h, "admin", "PUT", "/admin/risk/user:alice",
                          {"level": "elevated", "reason": "mass download"})
        listing = await _call(h, "admin", "GET", "/admin/risk")
        not_a_ref = await _call(h, "admin", "PUT", "/admin/risk/alice",
                                {"level": "minor", "reason": "x"})
    assert put.status_code == 200
    assert listing.json()["data"] == [{"principal": "user:alice", "level": "elevated",
                                       "reason": "mass download", "set_by": "user:root",
                                       "at": put.json()["at"]}]
    assert not_a_ref.status_code == 400
    assert not_a_ref.json()["error"]["param"] == "principal_ref"


JIT_POLICIES = """
@id("jit-chat")
@reason("members of chat-users may use demo-chat")
permit (principal in Group::"chat-users", action == Action::"invoke_model",
        resource == Model::"demo-chat");

@id("approvers-approve")
@reason("approvers may decide access requests")
permit (principal in Group::"approvers", action == Action::"approve_access",
        resource == Gateway::"gateway");
"""


async def test_just_in_time_access_is_approved_by_someone_else_and_expires(
        tmp_path: Path) -> None:
    options = Options(policy_texts={**starter_policies(), "50-jit.cedar": JIT_POLICIES})
    ask = {"role": "chat-users", "duration_s": 600, "reason": "incident 42"}
    async with harness(tmp_path, options) as h:
        erin = (await _call(h, "admin", "POST", "/admin/keys", {
            "principal": "erin", "kind": "user", "groups": ["approvers"]})).json()["key"]
        h.keys["erin"] = erin
        before = await h.client.post("/v1/chat/completions", headers=auth(erin), json=chat())
        requested = await _call(h, "erin", "POST", "/admin/access/requests", ask)
        request_event = h.last_event()
        grant = requested.json()["grant_id"]
        own = await _call(h, "erin", "POST", f"/admin/access/requests/{grant}/approve")
        by_bob = await _call(h, "bob", "POST", f"/admin/access/requests/{grant}/approve")
        approved = await _call(h, "admin", "POST", f"/admin/access/requests/{grant}/approve",
                               {"note": "on call"})
        approve_event = h.last_event()
        during = await h.client.post("/v1/chat/completions", headers=auth(erin), json=chat())
        during_event = h.last_event()
        listing = await _call(h, "admin", "GET", "/admin/access/requests")
        twice = await _call(h, "admin", "POST", f"/admin/access/requests/{grant}/deny")
        h.clock.advance(601)
        after = await h.client.post("/v1/chat/completions", headers=auth(erin), json=chat())
    assert before.status_code == 403
    assert requested.status_code == 200
    assert (requested.json()["principal"], requested.json()["status"]) == ("user:erin",
                                                                          "pending")
    assert (request_event["action"], request_event["details"]["grant_id"]) == (
        "request_access", grant)
    assert own.status_code == 400
    assert "own access request" in own.json()["error"]["message"]
    assert by_bob.status_code == 403
    assert approved.status_code == 200
    assert approved.json()["decided_by"] == "user:root"
    assert approved.json()["note"] == "on call"
    assert approve_event["action"] == "approve_access"
    assert approve_event["details"] == {"operation": "access.approve", "target": grant,
                                        "role": "chat-users", "subject": "user:erin",
                                        "status": "approved"}
    assert during.status_code == 200
    assert "jit-chat" in during_event["decision"]["policy_ids"]
    assert [g["status"] for g in listing.json()["data"]] == ["approved"]
    assert twice.status_code == 400
    assert after.status_code == 403


async def test_anyone_may_ask_for_access_and_an_admin_may_deny_it(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        asked = await _call(h, "nogrant", "POST", "/admin/access/requests",
                            {"role": "admins", "duration_s": 60, "reason": "curious"})
        grant = asked.json()["grant_id"]
        denied = await _call(h, "admin", "POST", f"/admin/access/requests/{grant}/deny")
        still = await _call(h, "nogrant", "GET", "/admin/keys")
    assert asked.status_code == 200
    assert asked.json()["principal"] == "service:ci-bot"
    assert denied.status_code == 200
    assert denied.json()["status"] == "denied"
    assert still.status_code == 403


@pytest.mark.parametrize(("method", "path", "body", "param"), [
    ("POST", "/admin/keys", {"principal": 5, "kind": "user"}, "principal"),
    ("POST", "/admin/keys", {"kind": "user"}, "principal"),
    ("POST", "/admin/keys", {"principal": "x", "kind": "robot"}, "kind"),
    ("POST", "/admin/keys", {"principal": "x", "kind": "user", "expire_in_s": 5}, "expire_in_s"),
    ("POST", "/admin/keys", {"principal": "x", "kind": "user", "expires_in_s": -1},
     "expires_in_s"),
    ("POST", "/admin/keys", {"principal": "x", "kind": "user", "groups": "staff"}, "groups"),
    ("POST", "/admin/keys", b"{not json", None),
    ("POST", "/admin/keys", [1, 2], None),
    ("POST", "/admin/agents", {"agent_id": "a", "sponsor": "alice"}, "public_jwk"),
    ("POST", "/admin/revocations", {"kind": "user", "subject": "bob"}, "reason"),
    ("PUT", "/admin/risk/user:bob", {"level": "extreme", "reason": "x"}, "level"),
    ("POST", "/admin/access/requests", {"role": "r", "duration_s": "600", "reason": "x"},
     "duration_s"),
    ("POST", "/admin/access/requests/g-1/approve", {"note": 1}, "note"),
])
async def test_a_malformed_body_is_a_400_naming_the_field_and_audited(
        tmp_path: Path, method: str, path: str, body: Any, param: str | None) -> None:
    content = body if isinstance(body, bytes) else None
    json_body = None if isinstance(body, bytes) else body
    async with harness(tmp_path) as h:
        keys_before = len(h.key_store.list_keys())
        response = await h.client.request(method, path, headers=auth(h.keys["admin"]),
                                          content=content, json=json_body)
        event = h.last_event()
        keys_after = len(h.key_store.list_keys())
    error = response.json()["error"]
    assert response.status_code == 400
    assert error["param"] == param
    assert (param or "request body") in error["message"]
    assert (event["status"], event["principal"]) == (400, "root")
    assert event["route"].startswith("admin.")
    assert (param or "request body") in event["error"]
    assert keys_after == keys_before


async def test_the_openapi_document_lists_every_endpoint_with_its_schemas(
        tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        anonymous = await h.client.get("/admin/openapi.json")
        staff = await h.client.get("/admin/openapi.json", headers=auth(h.keys["alice"]))
        answered = await h.client.get("/admin/openapi.json", headers=auth(h.keys["admin"]))
        spec = answered.json()
        event = h.last_event()
        docs = await h.client.get("/admin/docs", headers=auth(h.keys["admin"]))
    # an admin operation like any other since 2026-11-28 (FastAPI answered it to anyone)
    assert (anonymous.status_code, staff.status_code, answered.status_code) == (401, 403, 200)
    assert (event["route"], event["principal"], event["status"]) == ("admin.openapi", "root", 200)
    operations = {(method.upper(), "/admin" + path) for path, item in spec["paths"].items()
                  for method in item}
    expected = {(method, path.replace("0123456789ab", "{key_id}").replace(
        "mailer", "{agent_id}").replace("user/bob", "{kind}/{subject}").replace(
        "user:bob", "{principal_ref}").replace("g-1", "{grant_id}").replace("h-1", "{call_id}")
        .replace("ra-1", "{alert_id}"))
        for _, method, path, _ in ADMINISTER + APPROVE}
    expected.add(("POST", "/admin/access/requests"))
    assert operations == expected
    bodies = {path: item["post"]["requestBody"]["content"]["application/json"]["schema"]
              for path, item in spec["paths"].items() if "requestBody" in item.get("post", {})}
    assert {"principal", "kind", "groups", "expires_in_s"} <= set(bodies["/keys"]["properties"])
    assert "public_jwk" in bodies["/agents"]["properties"]
    assert bodies["/revocations"]["properties"]["kind"]["enum"] == [
        "token", "session", "user", "agent", "service", "key"]
    assert "$ref" not in str(bodies)
    risk = spec["paths"]["/risk/{principal_ref}"]["put"]["requestBody"]["content"]
    assert risk["application/json"]["schema"]["required"] == ["level", "reason"]
    for item in spec["paths"].values():
        for operation in item.values():
            assert "$ref" in str(operation["responses"]["200"])
            assert set(operation["responses"]) == {"200", "4XX", "5XX"}  # never FastAPI's 422
            assert operation["security"] == [{"HTTPBearer": []}]
    # no docs page: FastAPI's loads Swagger UI from a CDN into the origin where keys are typed
    assert docs.status_code == 400
    assert "no admin endpoint GET /admin/docs" in docs.json()["error"]["message"]


async def test_terms_acceptances_are_listed(tmp_path: Path) -> None:
    options = Options(terms={"assistant": ("2025-01", "https://example.test/terms")})
    async with harness(tmp_path, options) as h:
        accepted = await h.client.post("/v1/terms/accept", headers=auth(h.keys["alice"]),
                                       json={"app": "assistant"})
        listing = await _call(h, "admin", "GET", "/admin/terms/acceptances")
        now = h.clock.now()
    assert accepted.status_code == 200
    assert listing.json()["data"] == [{"principal": "user:alice", "app": "assistant",
                                       "version": "2025-01", "at": now}]


async def test_policies_in_force_and_a_refused_edit_are_listed(tmp_path: Path) -> None:
    settings = load_settings(init_dir(tmp_path))
    make_keys(settings)
    store = SqliteKeyStore(settings.path(settings.storage.sqlite_path))
    key, _ = issue_key(store, KeySpec("root", PrincipalKind.USER, frozenset({"admins"})),
                       SystemClock())
    store.close()
    parts = build_parts(settings)
    app = create_app(parts)
    headers = auth(key.reveal())
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport,
                                                 base_url="http://t") as client:
        policies = (await client.get("/admin/policies", headers=headers)).json()["data"]
        healthy = (await client.get("/admin/policies/status", headers=headers)).json()
        (tmp_path / "policies" / "99-bad.cedar").write_text("permit(principal, action, resource")
        assert parts.watcher is not None
        parts.watcher.poll(Metrics())
        broken = (await client.get("/admin/policies/status", headers=headers)).json()
        still = (await client.get("/admin/policies", headers=headers)).json()["data"]
    by_id = {p["id"]: p for p in policies}
    assert by_id["admins-administer"]["effect"] == "permit"
    assert by_id["admins-administer"]["reason"].startswith("admins may use the admin API")
    assert by_id["admins-administer"]["file"].endswith(".cedar")
    assert healthy == {"in_force": len(policies), "up_to_date": True, "problems": []}
    assert broken["up_to_date"] is False
    assert broken["in_force"] == len(policies)
    assert [p["file"].endswith("99-bad.cedar") for p in broken["problems"]] == [True]
    assert still == policies
