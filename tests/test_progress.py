import io

import opentimelineio as otio

from foleyflow.plugin.clips import ClipInfo
from foleyflow.plugin.events import Event, EventKind
from foleyflow.plugin.media import FOUND, MediaResolution
from foleyflow.plugin.progress import ProgressBar
from foleyflow.plugin.selection import Job
from foleyflow.plugin.timing import TimeMap


class Tty(io.StringIO):
    def isatty(self):
        return True


def job():
    r = otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(24, 24))
    info = ClipInfo("V1:0", "V1", 0, "shot", otio.schema.Clip(), r, r, TimeMap(0), True, False)
    return Job(info, MediaResolution(None, "", ()), FOUND, 48000)


def test_bar_on_a_terminal():
    out = Tty()
    bar = ProgressBar(out, width=10)
    bar(Event(EventKind.SEGMENTS, 0, 2, job(), 1, 2))
    bar(Event(EventKind.CLIP_DONE, 0, 2, job()))
    text = out.getvalue()
    assert "[#####-----]  50%" in text and "\r" in text and "[1/2] V1:0 shot: done" in text


def test_lines_elsewhere():
    out = io.StringIO()
    bar = ProgressBar(out)
    bar(Event(EventKind.SEGMENTS, 0, 1, job(), 1, 2))
    bar(Event(EventKind.CLIP_FAILED, 0, 1, job(), message="no media"))
    bar(Event(EventKind.CLIP_CANCELLED, 0, 1, job()))
    assert out.getvalue() == "[1/1] V1:0 shot: FAILED: no media\n[1/1] V1:0 shot: cancelled\n"
