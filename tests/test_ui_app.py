"""``foleyflow panel TIMELINE --screenshot PNG``: renders the loaded panel and exits."""

from __future__ import annotations

from conftest import TIMELINES as CORPUS
from PySide6.QtGui import QImage

from foleyflow.cli import main as cli_main
from foleyflow.ui.app import main


def test_screenshot_of_a_real_timeline(qtbot, tmp_path):
    png = tmp_path / "panel.png"
    code = main([str(CORPUS / "premiere_example.xml"), "--screenshot", str(png), "--settings",
                 str(tmp_path / "s.ini"), "--size", "1200x800", "--theme", "light"])
    assert code == 0
    img = QImage(str(png))
    assert (img.width(), img.height()) == (1200, 800)


def test_through_the_foleyflow_command_and_a_bad_timeline(qtbot, tmp_path, capsys):
    bad = tmp_path / "bad.otio"
    bad.write_text("nope")
    png = tmp_path / "bad.png"
    code = cli_main(["panel", str(bad), "--screenshot", str(png), "--settings", str(tmp_path / "s.ini")])
    assert code == 2 and png.exists()  # the panel still renders, with the error in plain words
    err = capsys.readouterr().err
    assert "Cannot open the timeline" in err and str(bad) in err
    png2 = tmp_path / "collection.png"
    assert cli_main(["panel", str(CORPUS / "fcpx_example.fcpxml"), "--timeline", "2", "--screenshot", str(png2),
                     "--settings", str(tmp_path / "s.ini")]) == 0
