"""Plain-text tables for the command line: the clip list, the dry run and the summary."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from .media import reference_path
from .selection import Job
from .timing import exact_rate, seconds, timecode


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = []
    for row in [list(headers), ["-" * w for w in widths], *rows]:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths[:-1], strict=False)] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _rec(job: Job, rate: Fraction, start: otio.opentime.RationalTime) -> tuple[str, str]:
    r = job.info.record_range
    return timecode(r.start_time, rate, start), timecode(r.end_time_exclusive(), rate, start)


def _src(job: Job) -> tuple[str, str]:
    s = job.info.source_range
    rate = exact_rate(s.start_time.rate)
    return timecode(s.start_time, rate), timecode(s.end_time_exclusive(), rate)


def _speed(job: Job) -> str:
    s = job.info.speed
    if s == 1:
        return "1"
    if s == 0:
        return "freeze"
    return f"{float(s):.4g}"


def _media(job: Job) -> str:
    if job.media.path is not None:
        return str(job.media.path)
    named = reference_path(job.info.media_reference)
    return f"({named})" if named else "-"


def clips_table(jobs: Sequence[Job], rate: Fraction, start: otio.opentime.RationalTime) -> str:
    """`foleyflow clips`: id, track, name, record in/out, source in/out, speed, status, media."""
    rows = []
    for j in jobs:
        rec_in, rec_out = _rec(j, rate, start)
        src_in, src_out = _src(j)
        rows.append([j.info.id, j.info.track, j.info.name or "-", rec_in, rec_out, src_in, src_out, _speed(j),
                     j.status, _media(j)])
    headers = ["ID", "TRACK", "NAME", "REC IN", "REC OUT", "SRC IN", "SRC OUT", "SPEED", "STATUS", "MEDIA"]
    return format_table(headers, rows)


def clips_json(jobs: Sequence[Job], rate: Fraction, start: otio.opentime.RationalTime) -> list[dict[str, object]]:
    out = []
    for j in jobs:
        rec_in, rec_out = _rec(j, rate, start)
        src_in, src_out = _src(j)
        out.append({
            "id": j.info.id, "track": j.info.track, "name": j.info.name,
            "record_in": rec_in, "record_out": rec_out,
            "record_start_s": float(seconds(j.info.record_range.start_time)),
            "record_duration_s": float(seconds(j.info.record_range.duration)),
            "source_in": src_in, "source_out": src_out, "speed": float(j.info.speed),
            "status": str(j.status), "media": str(j.media.path) if j.media.path else None,
            "looked_for": list(j.media.looked_for), "samples": j.n_samples,
        })
    return out


def dry_run_table(jobs: Sequence[Job], wavs: Sequence[Sequence[Path]], rate: Fraction,
                  start: otio.opentime.RationalTime) -> str:
    rows = []
    for j, paths in zip(jobs, wavs, strict=True):
        rec_in, rec_out = _rec(j, rate, start)
        what = ", ".join(p.name for p in paths) if j.runnable else f"(skipped: {j.status})"
        rows.append([j.info.id, j.info.name or "-", rec_in, rec_out, str(j.n_samples), j.status, what])
    return format_table(["ID", "NAME", "REC IN", "REC OUT", "SAMPLES", "STATUS", "WAV"], rows)


def summary_table(rows: Sequence[tuple[Job, str, str]], rate: Fraction, start: otio.opentime.RationalTime) -> str:
    """(job, result, detail) per clip: result is generated, failed, missing, generator or disabled."""
    out = []
    for job, result, detail in rows:
        rec_in, rec_out = _rec(job, rate, start)
        secs = f"{job.n_samples / 48000:.2f}"
        out.append([job.info.id, job.info.name or "-", rec_in, rec_out, secs, result, detail])
    return format_table(["ID", "NAME", "REC IN", "REC OUT", "SECONDS", "RESULT", "DETAIL"], out)


def seconds_text(secs: float) -> str:
    return f"{secs:.1f} s" if secs < 120 else f"{secs / 60:.1f} min"
