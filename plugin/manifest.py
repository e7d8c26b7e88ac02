"""The plugin manifest (manifest.json): read it, check it, and refresh its bundled-model checksums.

    python -m foleyflow.plugin.manifest --update   # rewrite the "models" files after re-exporting
    python -m foleyflow.plugin.manifest            # verify; exit 1 on a mismatch
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from foleyflow.runtime.spec import sha256_file

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / "manifest.json"


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def model_files(package: Path) -> list[dict[str, Any]]:
    """sha256 and size of every file of a model package, sorted by path."""
    return [{"path": f.name, "sha256": sha256_file(f), "size": f.stat().st_size}
            for f in sorted(package.iterdir()) if f.is_file()]


def check_models(manifest: dict[str, Any], root: Path = REPO) -> list[str]:
    """Problems with the bundled models (empty when every listed file matches and none is unlisted)."""
    problems = []
    for m in manifest.get("models", []):
        package = root / m["path"]
        if not package.is_dir():
            problems.append(f"{package}: bundled model folder is missing")
            continue
        listed = {f["path"]: f for f in m["files"]}
        actual = {f["path"]: f for f in model_files(package)}
        for name in sorted(set(listed) | set(actual)):
            if name not in actual:
                problems.append(f"{package / name}: listed in manifest.json but missing")
            elif name not in listed:
                problems.append(f"{package / name}: present but not listed in manifest.json")
            elif listed[name] != actual[name]:
                problems.append(f"{package / name}: sha256/size differ from manifest.json")
    return problems


def update_models(path: Path = MANIFEST) -> dict[str, Any]:
    manifest = load_manifest(path)
    for m in manifest.get("models", []):
        m["files"] = model_files(path.parent / m["path"])
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--update", action="store_true", help="rewrite the bundled models' checksums")
    args = ap.parse_args(argv)
    if args.update:
        update_models()
    problems = check_models(load_manifest())
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
