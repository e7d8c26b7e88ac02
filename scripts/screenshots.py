"""Make the panel's screenshots for the docs, dark and light (offscreen; no display needed).

    python scripts/screenshots.py [-o docs/screenshots]

1. ``empty``: the panel before a timeline is opened;
2. ``loaded``: a real Premiere Pro timeline from tests/data/corpus (media missing, as it ships);
3. ``running``: a run in progress on synthetic media (the plugin's demo scenes);
4. ``results``: takes generated, their waveforms under their clips, placed on Foley tracks.

It uses a temporary settings file and the bundled model.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "data" / "corpus"
SIZE = (1600, 940)


def build_demo(folder: Path) -> Path:
    """Two video tracks of synthetic scenes (bounces, hits, rolling) as an .otio, media beside it."""
    import opentimelineio as otio

    from foleyflow.demo import DemoClip, build_timeline, render_media

    v1 = (DemoClip("bounce", seed=11, fps=Fraction(24000, 1001), duration=4.0, source_start=0, source_frames=96),
          DemoClip("hits", seed=12, fps=Fraction(25), duration=4.0, source_start=24, source_frames=60, gap_before=24),
          DemoClip("roll", seed=13, fps=Fraction(30), duration=3.0, source_start=0, source_frames=72))
    v2 = DemoClip("wide", seed=21, fps=Fraction(24000, 1001), duration=10.0, source_start=0, source_frames=216,
                  gap_before=48)
    media = render_media(folder / "media", (*v1, v2), size=96)
    timeline = build_timeline(media, folder, v1)
    timeline.name = "Reel 2 · bouncing objects"
    one = build_timeline(media, folder, (v2,))
    track = one.tracks[0]
    one.tracks.remove(track)
    track.name = "V2"
    timeline.tracks.append(track)
    path = folder / "reel2.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from foleyflow.ui import theme
    from foleyflow.ui.panel import FoleyPanel
    from foleyflow.ui.preview import NullPlayer

    app = QApplication.instance() or QApplication(sys.argv[:1])
    theme.setup_application(app)
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    with tempfile.TemporaryDirectory(prefix="foleyflow-shots-") as tmp:
        work = Path(tmp)
        store = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
        panel = FoleyPanel(settings=store, player=NullPlayer())
        panel.resize(*SIZE)
        panel.show()
        app.processEvents()

        def shoot(name: str, settle: bool = True) -> None:
            current = panel.values.theme
            for t in ("dark", "light"):
                panel.set_theme(t)
                if settle:  # not during a run: pending progress events would move the panel on
                    app.processEvents()
                written.append(panel.render_png(out / f"{name}_{t}.png"))
            panel.set_theme(current)

        shoot("empty")

        panel.open_timeline(CORPUS / "premiere_example.xml")
        panel.select_track("V2")
        panel.table.select_ids(panel.doc.clip_ids_on_track("V2"), current="V2:3")
        panel.view.set_playhead(12.0)
        app.processEvents()
        shoot("loaded")

        demo = build_demo(work / "demo")
        panel.form.seed.setValue(7)
        panel.form.variations.setValue(2)
        panel.form.set_output_folder(str(work))
        panel.open_timeline(demo)
        panel.table.select_ids([r.id for r in panel.doc.rows], current="V1:3")
        loop = QEventLoop()
        shot = {"done": False}

        def on_progress(p: object) -> None:
            # the moment the long clip on V2 is part-way through: three clips done, one running
            if not shot["done"] and getattr(p, "clip_id", "") == "V2:1" and 0.3 < getattr(p, "clip_fraction", 0) < 1:
                shot["done"] = True
                panel.table.select_ids([r.id for r in panel.doc.rows], current="V1:0")
                shoot("running", settle=False)

        panel.runFinished.connect(lambda _r: QTimer.singleShot(50, loop.quit))
        panel.generate()
        panel._thread.progressed.connect(on_progress)
        loop.exec()
        if not shot["done"]:
            print("screenshots: the run ended before the in-progress moment; 'running' not written", file=sys.stderr)
        panel.place()
        panel.table.select_ids(["V1:3"], current="V1:3")
        panel.set_variation("V1:3", 1)
        panel.view.set_playhead(6.2)
        app.processEvents()
        shoot("results")
        panel.close()
    for p in written:
        print(p.relative_to(REPO) if p.is_relative_to(REPO) else p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
