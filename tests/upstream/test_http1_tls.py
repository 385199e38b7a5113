"""HTTPS to a local server with a self-signed certificate: trusted through the test-only ``tls``
context it works and keeps its connection; the system trust store, or a certificate for another
name, refuses it as an unavailable upstream."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.upstream.raw_server import Script, raw_upstream, response
from ztai.core.errors import UpstreamError
from ztai.upstream.interface import Endpoint, UpstreamCall
from ztai.upstream.model import OpenAIOptions, Timeouts
from ztai.upstream.openai import OpenAIUpstream

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "uvloop"])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, bool]]:
    """Both loops the gateway may run on (uvicorn picks uvloop when it is installed)."""
    return "asyncio", {"use_uvloop": request.param == "uvloop"}

CHAT = UpstreamCall(Endpoint.CHAT, {"model": "m", "messages": []})
TIMEOUTS = Timeouts(connect=5.0, read=2.0, write=2.0, pool=2.0, total=5.0)


def certificate(directory: Path, name: x509.GeneralName) -> tuple[Path, Path]:
    """A self-signed certificate for ``name``: (certificate file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ztai test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([name]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def contexts(directory: Path, name: x509.GeneralName) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(the server's context, a client context that trusts only its certificate)."""
    cert_file, key_file = certificate(directory, name)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


LOCAL_IP = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))


async def test_a_trusted_certificate_works_and_the_connection_is_kept(tmp_path: Path) -> None:
    server_tls, client_tls = contexts(tmp_path, LOCAL_IP)
    async with raw_upstream(Script([response("200 OK", b'{"tls": true}')]), server_tls) as server:
        client = OpenAIUpstream(OpenAIOptions("p", server.url, timeouts=TIMEOUTS), tls=client_tls)
        replies = [await client.send(CHAT) for _ in range(2)]
        await client.aclose()
    assert [reply.body for reply in replies] == [{"tls": True}] * 2
    assert server.connections == [1, 1]


@pytest.mark.parametrize("trusted", [False, True], ids=["system-store", "wrong-name"])
async def test_an_untrusted_certificate_is_unavailable(tmp_path: Path, trusted: bool) -> None:
    server_tls, client_tls = contexts(tmp_path, x509.DNSName("other.example"))
    async with raw_upstream(Script([response()]), server_tls) as server:
        client = OpenAIUpstream(OpenAIOptions("p", server.url, timeouts=TIMEOUTS),
                                tls=client_tls if trusted else None)
        with pytest.raises(UpstreamError) as caught:
            await client.send(CHAT)
        await client.aclose()
    assert (caught.value.status, caught.value.code) == (502, "upstream_unavailable")
    assert server.requests == []
