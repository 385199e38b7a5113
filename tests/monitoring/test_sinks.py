"""Alert sinks against real servers on 127.0.0.1: the webhook (JSON or OCSF, signed; errors
recorded without the URL, retried with back-off, then given up), syslog over UDP and TCP."""

from __future__ import annotations

import hashlib
import hmac
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import orjson
import pytest

from ztai.core.secret import Secret
from ztai.monitoring.delivery import DeliveryOptions, Dispatcher
from ztai.monitoring.pseudonym import Pseudonymizer
from ztai.monitoring.sinks.interface import SinkError
from ztai.monitoring.sinks.syslog import SyslogOptions, SyslogSink, rfc5424
from ztai.monitoring.sinks.webhook import WebhookOptions, WebhookSink
from ztai.storage.memory import MemoryMonitorStore
from ztai.storage.model import (
    AlertDelivery,
    AlertEvidence,
    AlertRecord,
    AlertStatus,
    DeliveryStatus,
    MonitorSave,
    RiskLevel,
)

ALERT = AlertRecord(
    "ra-000000000007", "user:p-0123456789abcdef", RiskLevel.ELEVATED, 71.8, AlertStatus.OPEN,
    1_750_000_000.0, 1_750_000_420.0, 2, {"probing": 48.0, "denied": 19.9},
    (AlertEvidence(5, "x-5", 1_750_000_000.0, "invoke_model", "Model::demo-chat", "deny", {},
                   ("term.obsidian",)),
     AlertEvidence(7, "x-7", 1_750_000_420.0, "invoke_model", "Model::demo-chat", "deny",
                   {"probing": 8.0}, ("term.obsidian",))))


class Hook(BaseHTTPRequestHandler):
    status = 200
    delay_s = 0.0
    received: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []

    def do_POST(self) -> None:  # the name http.server calls
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).received.append((self.path, dict(self.headers), body))
        time.sleep(type(self).delay_s)
        self.send_response(type(self).status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def hook() -> Iterator[tuple[str, type[Hook]]]:
    handler = type("Handler", (Hook,), {"received": [], "status": 200, "delay_s": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.block_on_close = False  # a handler still sleeping is not waited for
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook/s3cr3t-token", handler
    finally:
        server.shutdown()
        server.server_close()


def _webhook(url: str, **options: object) -> WebhookSink:
    return WebhookSink(WebhookOptions(Secret(url), **options))  # type: ignore[arg-type]


def test_the_webhook_posts_the_alert_signed(hook: tuple[str, type[Hook]]) -> None:
    url, handler = hook
    sink = _webhook(url, signing_secret=Secret("shh"))
    sink.send(ALERT)
    sink.close()
    [(path, headers, body)] = handler.received
    assert path == "/hook/s3cr3t-token"
    payload = orjson.loads(body)
    assert payload["type"] == "ztai.risk_alert"
    assert payload["alert"]["alert_id"] == ALERT.alert_id
    assert [e["seq"] for e in payload["alert"]["evidence"]] == [5, 7]
    expected = hmac.new(b"shh", body, hashlib.sha256).hexdigest()
    assert headers["x-ztai-signature"] == f"sha256={expected}"


def test_the_webhook_can_post_ocsf(hook: tuple[str, type[Hook]]) -> None:
    url, handler = hook
    _webhook(url, format="ocsf").send(ALERT)
    finding = orjson.loads(handler.received[0][2])
    assert (finding["class_uid"], finding["type_uid"]) == (2004, 200402)
    assert "x-ztai-signature" not in handler.received[0][1]


@pytest.mark.parametrize(("status", "delay_s", "error"), [
    (500, 0.0, "webhook: HTTP 500"), (302, 0.0, "webhook: HTTP 302"),
    (200, 0.5, "webhook: ReadTimeout")])
def test_webhook_failures_name_no_url(hook: tuple[str, type[Hook]], status: int,
                                      delay_s: float, error: str) -> None:
    url, handler = hook
    handler.status, handler.delay_s = status, delay_s
    with pytest.raises(SinkError) as raised:
        _webhook(url, timeout_s=0.1).send(ALERT)
    assert str(raised.value) == error


def test_an_unreachable_webhook_is_a_sink_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(SinkError, match="ConnectError"):
        _webhook(f"http://127.0.0.1:{port}/x").send(ALERT)


def _store_with_alert() -> MemoryMonitorStore:
    store = MemoryMonitorStore()
    real = AlertRecord(ALERT.alert_id, "user:adele", ALERT.level, ALERT.score, ALERT.status,
                       ALERT.raised_at, ALERT.updated_at, ALERT.revision, ALERT.indicators,
                       ALERT.evidence)
    store.save_monitor(MonitorSave(0, 1, alerts=(real,),
                                   deliveries=(AlertDelivery(ALERT.alert_id, 2, "webhook"),)))
    return store


def test_failed_deliveries_are_recorded_retried_then_given_up(
        hook: tuple[str, type[Hook]]) -> None:
    url, handler = hook
    handler.status = 503
    store, key = _store_with_alert(), Pseudonymizer(b"k" * 32)
    dispatcher = Dispatcher(store, {"webhook": _webhook(url)}, key,
                            DeliveryOptions(max_attempts=3, backoff_s=10.0))
    outcomes = []
    for now in (100.0, 105.0, 110.0, 130.0, 200.0):
        dispatcher.dispatch(now)
        [delivery] = store.deliveries(ALERT.alert_id)
        outcomes.append((delivery.status, delivery.attempts, delivery.next_at))
    assert outcomes == [
        (DeliveryStatus.PENDING, 1, 110.0),  # due again after 10 s
        (DeliveryStatus.PENDING, 1, 110.0),  # not yet due: nothing sent
        (DeliveryStatus.PENDING, 2, 130.0),  # then 20 s
        (DeliveryStatus.FAILED, 3, 170.0),  # the third failure gives up
        (DeliveryStatus.FAILED, 3, 170.0),
    ]
    assert len(handler.received) == 3
    [delivery] = store.deliveries(ALERT.alert_id)
    assert delivery.last_error == "webhook: HTTP 503"
    assert "s3cr3t" not in delivery.last_error
    assert orjson.loads(handler.received[0][2])["alert"]["principal"] == key.pseudonym(
        "user:adele")


def test_a_delivery_to_a_sink_no_longer_configured_fails_at_once() -> None:
    store = _store_with_alert()
    report = Dispatcher(store, {}, Pseudonymizer(b"k" * 32)).dispatch(1.0)
    assert (report.delivered, report.failed) == (0, 1)
    assert store.deliveries(ALERT.alert_id)[0].last_error == "no sink 'webhook' is configured"


SYSLOG = re.compile(r"^<(\d+)>1 (\S+) (\S+) (\S+) - risk-alert \[ztai@32473 (.*)\] (.*)$")


def _parse(message: bytes) -> tuple[int, str, dict[str, str], str]:
    match = SYSLOG.match(message.decode())
    assert match is not None, message
    pri, stamp, _, app, data, text = match.groups()
    params = dict(re.findall(r'(\w+)="((?:[^"\\\]]|\\.)*)"', data))
    assert app == "ztai"
    return int(pri), stamp, params, text


def test_syslog_over_udp_is_rfc5424() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        SyslogSink(SyslogOptions("127.0.0.1", server.getsockname()[1], hostname="gw1")).send(
            ALERT)
        message, _ = server.recvfrom(4096)
    pri, stamp, params, text = _parse(message)
    assert pri == 16 * 8 + 2  # local0, critical: an open elevated alert
    assert stamp == "2025-06-15T15:13:40.000Z"
    assert params == {"alert": ALERT.alert_id, "revision": "2", "status": "open",
                      "level": "elevated", "principal": ALERT.principal, "score": "71.8",
                      "evidence": "5,7"}
    assert text == f"risk elevated (open) for {ALERT.principal}: probing 48, denied 19.9"


def test_syslog_over_tcp_is_octet_counted() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(5)
        port = server.getsockname()[1]
        sending = threading.Thread(target=SyslogSink(SyslogOptions(
            "127.0.0.1", port, "tcp")).send, args=(ALERT,))
        sending.start()
        connection, _ = server.accept()
        with connection:
            data = b""
            while chunk := connection.recv(4096):
                data += chunk
        sending.join()
    length, _, message = data.partition(b" ")
    assert int(length) == len(message)
    assert _parse(message)[0] == 130


def test_syslog_escapes_structured_data_and_reports_refusals() -> None:
    odd = AlertRecord('ra-"x]\\', "user:p-1", RiskLevel.MINOR, 10.0, AlertStatus.RESOLVED,
                      0.0, 0.0, 3)
    _, _, params, _ = _parse(rfc5424(odd, SyslogOptions("127.0.0.1")))
    assert params["alert"] == 'ra-\\"x\\]\\\\'
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SinkError, match="syslog: ConnectionRefusedError"):
        SyslogSink(SyslogOptions("127.0.0.1", port, "tcp", timeout_s=1)).send(ALERT)
