import io

import opentimelineio as otio

from foleyflow.plugin.clips import ClipInfo
from foleyflow.plugin.generate import Event
from foleyflow.plugin.media import MediaResolution
from foleyflow.plugin.progress import ProgressBar
from foleyflow.plugin.selection import Job
from foleyflow.plugin.timing import TimeMap


class Tty(io.StringIO):
    def isatty(self):
        return True


def job():
    r = otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(24, 24))
    info = ClipInfo("V1:0", "V1", 0, "shot", otio.schema.Clip(), r, r, TimeMap(0), True, False)
    return Job(info, MediaResolution(None, "", ()), "found", 48000)


def test_bar_on_a_terminal():
    out = Tty()
    bar = ProgressBar(out, width=10)
    bar(Event("segments", 0, 2, job(), 1, 2))
    bar(Event("clip-done", 0, 2, job()))
    text = out.getvalue()
    assert "[#####-----]  50%" in text and "\r" in text and "[1/2] V1:0 shot: done" in text


def test_lines_elsewhere():
    out = io.StringIO()
    bar = ProgressBar(out)
    bar(Event("segments", 0, 1, job(), 1, 2))
    bar(Event("clip-failed", 0, 1, job(), message="no media"))
    assert out.getvalue() == "[1/1] V1:0 shot: FAILED: no media\n"
