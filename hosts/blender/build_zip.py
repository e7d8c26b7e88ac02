"""Zip the Blender add-on for Preferences > Add-ons > Install: ``foleyflow_blender/*.py`` at the top.

    python3 hosts/blender/build_zip.py [-o dist/foleyflow_blender.zip]

Standard library only; the zip is the same bytes for the same sources (fixed dates, sorted names).
"""

from __future__ import annotations

import argparse
import os
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = HERE / "foleyflow_blender"
DEFAULT_OUT = HERE.parents[1] / "dist" / "foleyflow_blender.zip"


def build(out: Path = DEFAULT_OUT) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and p.suffix not in (".pyc", ".pyo"))
    tmp = out.with_name(f".{out.name}.part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            info = zipfile.ZipInfo(f"{PACKAGE.name}/{path.relative_to(PACKAGE).as_posix()}", (2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes())
    os.replace(tmp, out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT, help="the zip to write")
    print(build(parser.parse_args().output))


if __name__ == "__main__":
    main()
