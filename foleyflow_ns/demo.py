"""``foleyflow demo``: render synthetic media, build a demo timeline, generate its Foley.

The timeline (24000/1001 fps) holds clips of three source rates, one of them
trimmed, with a gap::

    V1  | bounce (23.976 fps, 4 s) | gap 1 s | hits (25 fps, from 1 s in) | roll (30 fps) |

It writes ``OUT/media/*.mp4``, ``OUT/timeline.otio``, then generates into
``OUT/timeline_foley.otio`` with the WAVs beside it, checks that every Foley clip
sits exactly on its video clip and that every WAV holds round(seconds * 48000)
samples, and prints a summary. The synthetic world (``foleyflow.world``, numpy only) makes
the clips and the plugin's writer writes them; both are imported here, lazily.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import soundfile as sf

from foleyflow.plugin.cli import parse_or_exit_code, run_guarded, setup_logging
from foleyflow.plugin.clips import video_clips
from foleyflow.plugin.errors import OutputError
from foleyflow.plugin.generate import Engine, GenerateOptions, default_model_dir
from foleyflow.plugin.output import write_timeline
from foleyflow.plugin.placement import NAMESPACE
from foleyflow.plugin.progress import ProgressBar
from foleyflow.plugin.service import GenerateRequest, execute, plan
from foleyflow.plugin.timeline import read_timeline
from foleyflow.plugin.timing import SAMPLE_RATE, otio_rate, samples_for, seconds

log = logging.getLogger(__name__)

TIMELINE_RATE = Fraction(24000, 1001)
MEDIA_SIZE = 128


@dataclass(frozen=True)
class DemoClip:
    name: str
    seed: int
    fps: Fraction
    duration: float  # seconds of media rendered
    source_start: int  # timeline-rate frames into the media
    source_frames: int  # timeline-rate frames used
    gap_before: int = 0  # timeline-rate frames of gap before the clip


DEMO_CLIPS = (
    DemoClip("bounce", seed=11, fps=Fraction(24000, 1001), duration=4.0, source_start=0, source_frames=96),
    DemoClip("hits", seed=12, fps=Fraction(25), duration=4.0, source_start=24, source_frames=60, gap_before=24),
    DemoClip("roll", seed=13, fps=Fraction(30), duration=3.0, source_start=0, source_frames=72),
)


def render_media(folder: Path, clips: tuple[DemoClip, ...] = DEMO_CLIPS, size: int = MEDIA_SIZE,
                 world: str = "full") -> dict[str, Path]:
    """Render each demo clip's synthetic scene to ``folder/NAME_RATE.mp4`` (with its synthetic sound).

    ``world`` names the synthetic world's ranges: "impacts" (the first world) or "full".
    """
    from foleyflow.plugin.video_out import write_video
    from foleyflow.world import world as world_mod

    config = world_mod.impacts_config() if world == "impacts" else None
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for c in clips:
        rendered = world_mod.render_clip(c.seed, duration=c.duration, fps=c.fps, size=size, sample_rate=48000,
                                         config=config)
        path = folder / f"{c.name}_{float(c.fps):.3f}fps.mp4".replace(".000fps", "fps")
        write_video(path, rendered.frames, c.fps, audio=rendered.audio, sample_rate=rendered.sample_rate)
        paths[c.name] = path
    return paths


def build_timeline(media: dict[str, Path], base: Path, clips: tuple[DemoClip, ...] = DEMO_CLIPS) -> otio.schema.Timeline:
    """The demo timeline: one video track, media referenced relative to ``base`` (the timeline's folder)."""
    rate = otio_rate(TIMELINE_RATE)
    timeline = otio.schema.Timeline(name="Foley-Flow demo", global_start_time=otio.opentime.RationalTime(0, rate))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    for c in clips:
        if c.gap_before:
            track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(c.gap_before, rate))))
        path = media[c.name]
        n_media = _frame_count(c.duration, c.fps)
        ref = otio.schema.ExternalReference(
            target_url=path.resolve().relative_to(base.resolve()).as_posix(),
            available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, float(c.fps)),
                                                    otio.opentime.RationalTime(n_media, float(c.fps))),
        )
        track.append(otio.schema.Clip(
            name=path.name, media_reference=ref,
            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(c.source_start, rate),
                                                 otio.opentime.RationalTime(c.source_frames, rate))))
    return timeline


def _frame_count(duration: float, fps: Fraction) -> int:
    from foleyflow.world.world import frame_count

    return frame_count(duration, fps)


def verify(output: Path) -> int:
    """Check the demo's result: each Foley clip on its video clip's frames, each WAV of exact length.

    Returns the number of takes checked; OutputError on the first mismatch.
    """
    loaded = read_timeline(output)
    by_id = {c.id: c for c in video_clips(loaded.timeline, loaded.rate)}
    checked = 0
    for track in loaded.timeline.audio_tracks():
        for i, item in enumerate(track):
            meta = item.metadata.get(NAMESPACE) if isinstance(item, otio.schema.Clip) else None
            if not meta:
                continue
            video = by_id[str(meta["source_clip"])]
            placed = track.range_of_child_at_index(i)
            if placed != video.record_range:
                raise OutputError(f"Foley clip {item.name!r} sits at {placed}, its video clip at {video.record_range}",
                                  output)
            wav = output.parent / otio.url_utils.filepath_from_url(item.media_reference.target_url)
            frames = sf.info(str(wav)).frames
            if frames != samples_for(video.record_range) or sf.info(str(wav)).samplerate != SAMPLE_RATE:
                raise OutputError(f"{wav.name} holds {frames} samples, {samples_for(video.record_range)} expected",
                                  wav)
            checked += 1
    return checked


def run_demo(out: Path = Path("out/demo"), model: Path | None = None, steps: int | None = None, seed: int = 0,
             clips: tuple[DemoClip, ...] = DEMO_CLIPS, provider: str = "auto") -> int:
    """Build the demo under ``out`` and generate its Foley; print a summary. Returns an exit code."""
    started = time.perf_counter()
    out = Path(out)
    model_dir = model or default_model_dir()
    engine = Engine.load(model_dir, provider=provider)
    # scenes from the world the model was trained on
    media = render_media(out / "media", clips, world=str(engine.spec.training.get("world", "full")))
    timeline_path = out / "timeline.otio"
    write_timeline(build_timeline(media, out, clips), timeline_path)
    output = out / "timeline_foley.otio"
    request = GenerateRequest(timeline=timeline_path, output=output, options=GenerateOptions(seed=seed, steps=steps))
    plan_ = plan(request)
    t0 = time.perf_counter()
    outcome = execute(plan_, engine, on_event=ProgressBar())
    gen_wall = time.perf_counter() - t0
    if outcome.report.failed:
        for r in outcome.report.failed:
            print(f"foleyflow: demo clip {r.job.info.id} failed: {r.error}")
        return 4
    checked = verify(output)
    audio = outcome.report.audio_seconds
    rate_total = sum(seconds(j.info.record_range.duration) for j in plan_.jobs)
    print(f"demo: {len(plan_.jobs)} clips ({', '.join(p.name for p in media.values())}), "
          f"{float(rate_total):.2f} s of timeline")
    print(f"generated {audio:.2f} s of Foley in {gen_wall:.1f} s with {engine.spec.name} on {engine.provider} "
          f"({audio / gen_wall:.1f}x real time; {time.perf_counter() - started:.1f} s in all)")
    print(f"checked {checked} Foley clip(s): on their video clips' frames, WAVs 48 kHz PCM_24 of exact length")
    print(f"timeline  {timeline_path}\nwith Foley {output}\nWAVs      {plan_.wav_dir}/\nmedia     {out / 'media'}/")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="foleyflow demo",
                                description="Render synthetic media, build a demo timeline and generate its Foley.")
    p.add_argument("-o", "--output", type=Path, default=Path("out/demo"), help="demo folder (default out/demo)")
    p.add_argument("--model", type=Path, help="model package (default: the bundled default)")
    p.add_argument("--steps", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--provider", default="auto", help="execution provider (default auto)")
    p.add_argument("-q", "--quiet", action="count", default=0)
    p.add_argument("-v", "--verbose", action="count", default=0)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``foleyflow demo [-o DIR] ...`` (argv may start with "demo"); returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["demo"]:
        args_list = args_list[1:]

    def body() -> int:
        args = parse_or_exit_code(build_parser(), args_list)
        if isinstance(args, int):
            return args
        if args.steps is not None and args.steps < 1:
            print(f"foleyflow demo: error: --steps must be 1 or more, got {args.steps}", file=sys.stderr)
            return 2
        setup_logging(args.verbose - args.quiet)
        return run_demo(args.output, model=args.model, steps=args.steps, seed=args.seed, provider=args.provider)

    return run_guarded(body)


if __name__ == "__main__":
    sys.exit(main())
