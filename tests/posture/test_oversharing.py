"""The oversharing assessment: sensitive documents (by label or by content) readable by broad
audiences, ranked by risk, with fixes; and its JSON, CSV and HTML renderings, which must not
let a document's title run as markup or as a spreadsheet formula."""

from __future__ import annotations

import csv
import io

import pytest

from ztai.knowledge.interface import InvalidDocument
from ztai.knowledge.model import DocumentId, DocumentRecord
from ztai.posture.classification import ProtectionClassifier
from ztai.posture.oversharing import Directory, assess
from ztai.posture.oversharing_report import as_csv, as_html, as_json
from ztai.protection.labels import LabelRule, LabelScheme
from ztai.protection.pii import structured_pii_detector
from ztai.protection.secrets_detector import SecretDetector

SCHEME = LabelScheme(rules=(LabelRule(("secret.*",), "Highly Confidential"),
                            LabelRule(("pii.credit_card",), "Confidential")))
SIZES = Directory({"everyone": 5000, "group:sales": 800, "group:obsidian": 12,
                   "group:board": 9})


def record(id: str, *acl: str, label: str | None = None, findings: dict[str, int] | None = None,
           owner: str | None = "user:olga", explicit: str | None = None) -> DocumentRecord:
    return DocumentRecord(DocumentId(id), frozenset(acl), owner, f"Title of {id}", "share",
                          label, explicit if explicit is not None else label, "hash",
                          findings or {})


RECORDS = [
    record("public-notice", "everyone", label="Public"),
    record("obsidian-plan", "group:obsidian", label="Highly Confidential"),
    record("board-minutes", "everyone", label="Highly Confidential"),
    record("price-list", "group:sales", label="Confidential"),
    record("keys", "group:all-staff", label=None, findings={"secret.aws-access-token": 1}),
    record("cards", "group:sales", "group:board", label="General",
           findings={"pii.credit_card": 3}, owner=None),
    record("mystery", "everyone", label="Top Secret (unmapped)"),
]


def test_broadly_readable_sensitive_documents_ranked_by_risk() -> None:
    assessment = assess(RECORDS, SCHEME, SIZES)
    assert (assessment.documents, assessment.sensitive) == (7, 6)
    assert [(e.document, e.risk, e.severity) for e in assessment.exposures] == [
        ("board-minutes", 100, "critical"),
        ("mystery", 100, "critical"),
        ("keys", 50, "high"),  # broad by name, size unknown: half exposure
        ("cards", 12, "low"),
        ("price-list", 12, "low"),
    ]


def test_exposures_explain_themselves() -> None:
    exposures = {e.document: e for e in assess(RECORDS, SCHEME, SIZES).exposures}
    keys = exposures["keys"]
    assert keys.broad == (("group:all-staff", None),)
    assert keys.sensitivity == "Highly Confidential"
    assert keys.fixes[:3] == (
        "Replace group:all-staff with a narrower group",
        "Remove the credentials (secret.aws-access-token) and rotate them",
        "Apply a sensitivity label (the content suggests Highly Confidential)")
    cards = exposures["cards"]
    assert cards.broad == (("group:sales", 800),)
    assert cards.audience == 800
    assert "Relabel as Confidential: the content holds pii.credit_card" in cards.fixes
    assert cards.fixes[-1] == "Assign an owner accountable for reviewing access"
    board = exposures["board-minutes"]
    assert board.fixes[0] == "Remove 'everyone' from the ACL; grant only the groups that need it"
    assert board.audience == 5000


@pytest.mark.parametrize(("directory", "expected"), [
    (Directory({}), {"board-minutes", "mystery", "keys"}),  # only everyone and names
    (Directory({"group:obsidian": 12}, broad_min=10),
     {"board-minutes", "mystery", "keys", "obsidian-plan"}),
    (Directory({}, broad_names=()), {"board-minutes", "mystery"}),
])
def test_what_counts_as_broad(directory: Directory, expected: set[str]) -> None:
    assert {e.document for e in assess(RECORDS, SCHEME, directory).exposures} == expected


def test_the_sensitivity_floor_is_a_label() -> None:
    assert {e.document for e in assess(RECORDS, SCHEME, SIZES, "Public").exposures} >= {
        "public-notice"}
    with pytest.raises(ValueError, match="unknown label"):
        assess(RECORDS, SCHEME, SIZES, "Secret")


HOSTILE = record('=HYPERLINK("http://evil")<script>alert(1)</script>', "everyone",
                 label="Confidential")


def test_reports_escape_what_documents_say() -> None:
    assessment = assess([HOSTILE, *RECORDS], SCHEME, SIZES)
    page = as_html(assessment)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    rows = list(csv.DictReader(io.StringIO(as_csv(assessment))))
    hostile = next(r for r in rows if "HYPERLINK" in r["document"])
    assert hostile["document"].startswith("'=")
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    document = as_json(assessment)
    assert document["overshared"] == len(rows) == 6
    assert document["exposures"][0]["broad_access"] == [{"ref": "everyone", "members": 5000}]


def test_an_empty_assessment_renders() -> None:
    assessment = assess([], SCHEME, Directory())
    assert "No sensitive document is broadly readable" in as_html(assessment)
    assert as_csv(assessment).count("\n") == 1
    assert as_json(assessment)["exposures"] == []


def test_the_protection_classifier_labels_and_fingerprints() -> None:
    classifier = ProtectionClassifier((SecretDetector.build(), structured_pii_detector()),
                                      SCHEME)
    text = ("Deployment notes for the billing service. The key is AKIAZ3MSJV4WWNKWW5FG and "
            "the card on file is 4111 1111 1111 1111, keep both out of the wiki please.")
    found = classifier.classify(text, "General")
    assert found.label == "Highly Confidential"
    assert any(kind.startswith("secret.") for kind in found.findings)
    assert found.fingerprints
    plain = classifier.classify("Lunch menu for Tuesday: soup, bread and salad.", None)
    assert (plain.label, plain.fingerprints) == (None, ())
    with pytest.raises(InvalidDocument, match="unknown label"):
        classifier.classify("text", "Secret")
