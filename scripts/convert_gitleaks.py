"""Convert gitleaks' config/gitleaks.toml into src/ztai/protection/data/gitleaks_rules.json.

    .venv/bin/python scripts/convert_gitleaks.py \
        ../shared/data/secrets/gitleaks/config/gitleaks.toml

The license is read from LICENSE two folders above the config (the gitleaks checkout) unless
--license names it; the output is deterministic, so re-running it on the same input is a no-op.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ztai.protection.secrets_convert import convert_gitleaks, rule_file_text

OUT = Path(__file__).resolve().parent.parent / "src/ztai/protection/data/gitleaks_rules.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path, help="path to gitleaks.toml")
    parser.add_argument("--license", type=Path, help="gitleaks LICENSE (default: ../../LICENSE)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output (default: {OUT.name})")
    args = parser.parse_args(argv)
    license_path = args.license or args.config.resolve().parent.parent / "LICENSE"
    converted = convert_gitleaks(args.config.read_text(encoding="utf-8"),
                                 license_path.read_text(encoding="utf-8"),
                                 source=f"gitleaks {args.config.parent.name}/{args.config.name}")
    args.out.write_text(rule_file_text(converted), encoding="utf-8")
    rules = converted["rules"]
    print(f"wrote {len(rules) if isinstance(rules, list) else 0} rules to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
