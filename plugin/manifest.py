"""The plugin manifest (manifest.json): read it, check it, and refresh its bundled-model checksums.

Each bundled model lists its files (sha256, size), the recordings it learned from summed per source
package and license (from its model.json ``sound_sources``), and the license its weights are offered
under (:func:`weights_license`: a model trained on share-alike recordings is offered share-alike).

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


PROJECT_LICENSE = "Apache-2.0"  # weights trained on no recordings (the synthetic world) or CC0 ones only


def sound_sources(package: Path) -> list[dict[str, Any]]:
    """The recordings ``package`` learned from, per source package and license (its model.json
    ``sound_sources``, each ``{"source": "debian:PKG/path", "license": ..., "recordings": n}``),
    sorted: ``[{"package": "debian:PKG", "license": ..., "recordings": n}]``; [] for none."""
    try:
        spec = json.loads((package / "model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    totals: dict[tuple[str, str], int] = {}
    for s in spec.get("sound_sources", []) if isinstance(spec, dict) else []:
        pkg = str(s.get("source", "unknown")).split("/", 1)[0]
        key = (pkg, str(s.get("license", "unknown")))
        totals[key] = totals.get(key, 0) + int(s.get("recordings", 1))
    return [{"package": p, "license": lic, "recordings": n} for (p, lic), n in sorted(totals.items())]


def weights_license(sources: list[dict[str, Any]]) -> str:
    """The license a model's weights are offered under, given what it learned from: the first
    share-alike license among the sources (CC-BY-SA-3.0 for the Debian library), else an attribution
    one (CC-BY-3.0), else the project's (:data:`PROJECT_LICENSE`)."""
    licenses = sorted({str(s["license"]) for s in sources})
    for marker in ("-SA-", "CC-BY-"):
        hit = [lic for lic in licenses if marker in lic]
        if hit:
            return hit[0]
    return PROJECT_LICENSE


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
        sources = sound_sources(package)
        if m.get("sound_sources", []) != sources:
            problems.append(f"{package / 'model.json'}: its sound_sources differ from manifest.json's")
        if m.get("license") != weights_license(sources):
            problems.append(f"{package}: manifest.json gives license {m.get('license')!r}, its sources call for "
                            f"{weights_license(sources)!r}")
    return problems


def update_models(path: Path = MANIFEST) -> dict[str, Any]:
    manifest = load_manifest(path)
    for m in manifest.get("models", []):
        package = path.parent / m["path"]
        m["files"] = model_files(package)
        m["sound_sources"] = sound_sources(package)
        m["license"] = weights_license(m["sound_sources"])
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
