"""The built-in secret formats, without the gitleaks rules: private keys, JWTs, connection
strings and the optional high-entropy detector. Positives assert the exact secret span."""

from __future__ import annotations

import base64
import json

import pytest

from ztai.protection.secrets_detector import SecretDetector, SecretDetectorConfig
from ztai.protection.secrets_entropy import HighEntropyPolicy
from ztai.protection.secrets_rules import RuleBook

BODY = "\n".join(base64.b64encode(bytes(range(i, i + 48))).decode() for i in range(0, 192, 48))
PKCS8 = f"-----BEGIN PRIVATE KEY-----\n{BODY}\n-----END PRIVATE KEY-----"
EC = f"-----BEGIN EC PRIVATE KEY-----\n{BODY}\n-----END EC PRIVATE KEY-----"
ENCRYPTED = (f"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
             f"DEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n{BODY}\n-----END RSA PRIVATE KEY-----")
PGP = (f"-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n{BODY}\n=ab12\n"
       f"-----END PGP PRIVATE KEY BLOCK-----")
TRUNCATED = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{BODY}"
ESCAPED = PKCS8.replace("\n", "\\n")  # as it sits inside a JSON string


def segment(value: object) -> str:
    raw = json.dumps(value).encode() if not isinstance(value, bytes) else value
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


HEADER = segment({"alg": "HS256", "typ": "JWT"})
PAYLOAD = segment({"sub": "1234567890", "name": "John Doe", "iat": 1516239022})
JWT = f"{HEADER}.{PAYLOAD}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
UNSIGNED = f"{segment({'alg': 'none'})}.{PAYLOAD}."


@pytest.fixture(scope="module")
def builtins() -> SecretDetector:
    return SecretDetector.build(book=RuleBook(rules=()))


@pytest.fixture(scope="module")
def entropy() -> SecretDetector:
    config = SecretDetectorConfig(builtins=False, high_entropy=HighEntropyPolicy())
    return SecretDetector.build(config, book=RuleBook(rules=()))


def found(detector: SecretDetector, text: str) -> list[tuple[str, str]]:
    return [(m.kind, text[m.start:m.end]) for m in detector.detect(text)]


@pytest.mark.parametrize(("text", "secret"), [
    (PKCS8, PKCS8),
    (f"here is my key:\n{EC}\nwhy does ssh reject it?", EC),
    (ENCRYPTED, ENCRYPTED),
    (PGP, PGP),
    (f"{TRUNCATED}\n", TRUNCATED),
    (f'{{"private_key": "{ESCAPED}\\n"}}', ESCAPED),
])
def test_private_key_block(builtins: SecretDetector, text: str, secret: str) -> None:
    assert found(builtins, text) == [("secret.private-key", secret)]


@pytest.mark.parametrize("text", [
    "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY-----",
    f"-----BEGIN PUBLIC KEY-----\n{BODY}\n-----END PUBLIC KEY-----",
    f"-----BEGIN CERTIFICATE-----\n{BODY}\n-----END CERTIFICATE-----",
    "Generate one with `openssl genpkey` and paste the BEGIN PRIVATE KEY block here.",
])
def test_private_key_hard_negatives(builtins: SecretDetector, text: str) -> None:
    assert found(builtins, text) == []


@pytest.mark.parametrize(("text", "secret"), [
    (JWT, JWT),
    (f"Authorization: Bearer {JWT}\r\n", JWT),
    (f'{{"id_token":"{JWT}"}}', JWT),
    (f"alg none: {UNSIGNED} accepted", UNSIGNED),
])
def test_jwt(builtins: SecretDetector, text: str, secret: str) -> None:
    assert found(builtins, text) == [("secret.jwt", secret)]


@pytest.mark.parametrize("text", [
    f"{HEADER}.{PAYLOAD}",  # two segments: no signature part at all
    f"{segment({'typ': 'JWT'})}.{PAYLOAD}.c2ln",  # a JSON header without alg
    f"{segment(b'not json at all, just words')}.{PAYLOAD}.c2ln",
    f"{HEADER[:-1]}.{PAYLOAD}.c2ln",  # header cut short: no longer base64 JSON
    "eyJAAAA.eyJBBB.eyJDDDD",
    "version eyJ.x.y of the format",
])
def test_jwt_hard_negatives(builtins: SecretDetector, text: str) -> None:
    assert found(builtins, text) == []


@pytest.mark.parametrize(("text", "password"), [
    ("DATABASE_URL=postgres://app:s3cr3t-P4ss@db.internal:5432/prod", "s3cr3t-P4ss"),
    ("mongodb+srv://admin:hunter2hunter2@cluster0.example.net/test", "hunter2hunter2"),
    ("REDIS_URL=redis://:r3disPass@cache:6379/0", "r3disPass"),
    ("amqps://guest:rabbitPW9@mq.example.com/vhost", "rabbitPW9"),
    ("jdbc:mysql://root:toor@localhost:3306/db", "toor"),
    ("postgresql+psycopg2://u:pw123@host/db", "pw123"),
    ("curl https://deploy:tok3n@git.example.com/repo.git", "tok3n"),
    ("Server=tcp:db.example.com,1433;Database=app;User Id=sa;Password=Str0ng!Pass;", "Str0ng!Pass"),
    ("Data Source=db;Initial Catalog=x;User ID=u;PWD='p@ss w0rd '", "p@ss w0rd"),
])
def test_connection_string_password(builtins: SecretDetector, text: str, password: str) -> None:
    assert found(builtins, text) == [("secret.connection-string", password)]


@pytest.mark.parametrize("text", [
    "postgres://localhost:5432/db",
    "postgres://user@host/db",
    "postgres://user:${DB_PASSWORD}@host/db",
    "mysql://user:****@host/db",
    "https://user:{{password}}@host/",
    "https://url:8000 @something else",
    "http://example.com:8080/path?q=1",
    "Server=db;Database=app;Password=%s;",
    "Password=hunter2 (no server named, not a connection string)",
])
def test_connection_string_hard_negatives(builtins: SecretDetector, text: str) -> None:
    assert found(builtins, text) == []


def test_high_entropy_token_when_enabled(entropy: SecretDetector,
                                         builtins: SecretDetector) -> None:
    text = "use token dmtsVrFlvbpaTIlD5gYAEZyFQ8vZRNzv for the staging box"
    assert found(entropy, text) == [("secret.high-entropy", "dmtsVrFlvbpaTIlD5gYAEZyFQ8vZRNzv")]
    assert found(builtins, text) == []  # off by default


@pytest.mark.parametrize("text", [
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "id 123e4567-e89b-12d3-a456-426614174000",
    "ThisIsAVeryLongIdentifierWithoutAnyDigitsInIt",
    "see docs.example.com/document/d/1ydCeVBKapDBoci87fcgx5o-SdNfJU-EGalga/edit",
    "internationalization2024 and counterrevolutionaries",
    "short aZ9xQ2 tokens",
])
def test_high_entropy_hard_negatives(entropy: SecretDetector, text: str) -> None:
    assert found(entropy, text) == []
