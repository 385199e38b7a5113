#!/usr/bin/env bash
# Set up the prompt-shield peers for bench/shield/compare.py in their own venv
# (bench/.venv-shield-peers): jailguard with a locally exported MiniLM encoder, prompt-guardrail.
# Usage: bash bench/shield/setup.sh   (idempotent; needs PyPI only, downloads nothing at run time)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bench="$(dirname "$here")"
venv="$bench/.venv-shield-peers"
model_dir="$venv/jailguard-model"  # JAILGUARD_MODEL_DIR for peers.py
python="${PYTHON:-python3}"
requirements=(-r "$bench/requirements-shield-peers.txt" -c "$bench/requirements-shield-peers.lock.txt")

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip

# Resolve first and refuse before anything is installed if a CUDA build of torch would come in
# (torch itself is wanted, the CPU build: it exports the encoder).
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
"$venv/bin/python" -m pip install -q --dry-run --ignore-installed --report "$report" \
  "${requirements[@]}"
if "$venv/bin/python" - "$report" <<'PY'
import json, re, sys
found = [(i["metadata"]["name"], i["metadata"]["version"]) for i in json.load(open(sys.argv[1]))["install"]]
bad = [f"{n} {v}" for n, v in found if re.match(r"(?i)nvidia-|triton", n)
       or (n.lower() == "torch" and not v.endswith("+cpu"))]
print("\n".join(bad), file=sys.stderr)
sys.exit(0 if bad else 1)
PY
then
  echo "the resolved set for the shield peers includes CUDA wheels or a non-CPU torch: refusing" >&2
  exit 1
fi

"$venv/bin/python" -m pip install -q "${requirements[@]}"
if "$venv/bin/python" -m pip list 2>/dev/null | grep -iqE '^(nvidia-|triton)'; then
  echo "CUDA wheels ended up in $venv: refusing" >&2
  exit 1
fi

# jailguard would download its encoder on first use; export it from the packaged weights instead.
if [ ! -f "$model_dir/all-MiniLM-L6-v2.onnx" ]; then
  HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$venv/bin/python" "$here/export_encoder.py" "$model_dir"
fi

# Both peers must answer with no network at all (in a namespace without one, where we may).
offline=()
if unshare -n true 2>/dev/null; then offline=(unshare -n); fi
JAILGUARD_MODEL_DIR="$model_dir" "${offline[@]}" "$venv/bin/python" "$here/peers.py" --check
version() { "$venv/bin/python" -c "import importlib.metadata as m; print(m.version('$1'))"; }
echo "jailguard $(version jailguard), prompt-guardrail $(version prompt-guardrail)," \
  "encoder $model_dir/all-MiniLM-L6-v2.onnx ready in $venv"
