"""``foleyflow panel [TIMELINE] [--screenshot PNG]``: the panel as a standalone window.

With ``--screenshot`` the panel is laid out offscreen at ``--size``, the timeline
(if any) is opened, the panel is rendered to the PNG and the command exits: for
docs, and for checking the panel on a machine without a display.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="foleyflow panel", description="The Foley-Flow panel.")
    p.add_argument("timeline", nargs="?", type=Path, help="a timeline to open")
    p.add_argument("--timeline", dest="pick", type=int, metavar="N",
                   help="which timeline of a file that holds several (1-based; default: ask)")
    p.add_argument("--screenshot", type=Path, metavar="PNG", help="render the panel to PNG and exit")
    p.add_argument("--theme", choices=("dark", "light"), help="the theme (default: the remembered one)")
    p.add_argument("--size", default="1600x940", metavar="WxH", help="window size (default 1600x940)")
    p.add_argument("--settings", type=Path, metavar="INI", help="use this settings file instead of the user's")
    return p


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"foleyflow panel: error: --size wants WxH, e.g. 1600x940, not {text!r}") from None
    return max(w, 640), max(h, 400)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the panel; return the exit code (2 when the timeline cannot be opened for a screenshot)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["panel"]:  # from the ``foleyflow`` dispatcher
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    if args.screenshot is not None and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication

    from . import qtcompat, theme  # noqa: F401 (qtcompat: see its docstring)
    from .panel import FoleyPanel

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "foleyflow"])
    theme.setup_application(app)  # type: ignore[arg-type]
    store = QSettings(str(args.settings), QSettings.Format.IniFormat) if args.settings else None
    panel = FoleyPanel(settings=store)
    if args.theme:
        panel.set_theme(args.theme)
    panel.resize(*_size(args.size))
    if args.screenshot is not None:
        panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        panel.choose_timeline = lambda names: 0
        panel.offer_recovery = lambda rec: None  # a screenshot never takes or drops an editor's recovery files
    panel.show()
    ok = True
    if args.timeline is not None:  # its own recovery file, if a killed panel left one, is offered on opening
        ok = panel.open_timeline(args.timeline, None if args.pick is None else args.pick - 1)
    elif args.screenshot is None:
        panel.check_recovery()  # the work a killed panel left is offered back
    if args.screenshot is not None:
        app.processEvents()
        out = panel.render_png(args.screenshot)
        print(f"foleyflow: wrote {out}")
        if not ok:
            print(f"foleyflow: error: {panel.message_text()}", file=sys.stderr)
        panel.close()
        panel.deleteLater()
        app.processEvents()
        return 0 if ok else 2
    code = app.exec()
    panel.shutdown()
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
