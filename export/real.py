"""Real data layouts: a VGGSound-style CSV of clips and the Greatest Hits layout, decoded with PyAV.

Both readers return :class:`RealClip` records; :func:`build_real_set` decodes them (once: an on-disk
cache keyed by the file's path, size and modification time and by the model's front end), cuts
them into training windows of ``data.duration`` seconds and returns a :class:`ClipSet` that the
training stages read like the synthetic world's. Frames are prepared as the plugin prepares them
at run time: the source frame shown at each model frame time (a hold), resized whole (no crop)
to ``frame_size`` square with area interpolation; audio is mono at the model's rate.

VGGSound-style CSV (``youtube_id,start_seconds,label,split``, an optional header line; the
video of a row is ``{youtube_id}_{start:06d}`` with a common video suffix in ``--videos``; rows
whose video is missing are skipped and counted, as they are in every copy of VGGSound).

Greatest Hits (Owens et al., CVPR 2016): per recording ``NAME_denoised.mp4`` (video),
``NAME_denoised.wav`` (its audio; the video's own track is used when absent) and
``NAME_times.txt`` (one hit per line: ``time material action reaction``; ``None`` for unknown).

Command line (writes ``WORKDIR/cache/train.npz`` and ``val.npz``, which ``foleyflow train
--workdir WORKDIR`` then reuses instead of rendering the synthetic world)::

    python -m foleyflow.export.real vggsound --csv vggsound.csv --videos clips/ --workdir out/train/vgg
    python -m foleyflow.export.real greatest-hits --root vis-data/ --workdir out/train/hits
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from foleyflow.runtime.errors import FoleyFlowError

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".mov", ".m4v", ".avi")
CACHE_VERSION = 1


class LayoutError(FoleyFlowError):
    """A data layout's index file is malformed, or a clip cannot be decoded."""


@dataclass(frozen=True)
class RealClip:
    video: Path
    label: str  # class label (VGGSound) or the recording's most common material (Greatest Hits)
    split: str  # "train", "val" or "test"
    start: float = 0.0  # seconds into the file
    duration: float | None = None  # None: to the end of the file
    audio: Path | None = None  # a separate audio file; None: the video's own audio track
    hits: tuple[dict, ...] | None = None  # annotated events (time in the file, s); None: unannotated


# -- readers -----------------------------------------------------------------------------------------
def read_vggsound_csv(csv_path: str | Path, videos: str | Path, *, clip_seconds: float = 10.0) -> list[RealClip]:
    """Records of a VGGSound-style CSV whose videos exist under ``videos`` (the others are skipped)."""
    csv_path, videos = Path(csv_path), Path(videos)
    try:
        text = csv_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutError(f"cannot read the CSV: {exc}", csv_path) from exc
    out, missing = [], 0
    for lineno, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) < 4:
            raise LayoutError(f"line {lineno}: expected youtube_id,start_seconds,label,split; got {len(row)} fields",
                              csv_path)
        ytid, start_s, label, split = (c.strip() for c in row[:4])
        try:
            start = float(start_s)
        except ValueError:
            if lineno == 1:  # a header line
                continue
            raise LayoutError(f"line {lineno}: start seconds {start_s!r} is not a number", csv_path) from None
        if not math.isfinite(start) or start < 0:
            raise LayoutError(f"line {lineno}: start seconds {start_s!r} must be finite and >= 0", csv_path)
        stem = f"{ytid}_{int(start):06d}"
        video = next((videos / (stem + s) for s in VIDEO_SUFFIXES if (videos / (stem + s)).is_file()), None)
        if video is None:
            missing += 1
            continue
        # VGGSound's files are already cut to the clip: the record starts at 0 of its own file
        out.append(RealClip(video, label, "test" if split.lower() == "test" else "train", 0.0, clip_seconds))
    if missing:
        log.warning("%s: %d of %d rows have no video under %s (skipped)", csv_path, missing, missing + len(out), videos)
    if not out:
        raise LayoutError(f"no row has a video under {videos} (looked for ID_START{VIDEO_SUFFIXES[0]} etc.)", csv_path)
    return out


def _read_times(path: Path) -> tuple[dict, ...]:
    hits = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        try:
            t = float(parts[0])
        except ValueError:
            raise LayoutError(f"line {lineno}: hit time {parts[0]!r} is not a number", path) from None
        if not math.isfinite(t) or t < 0:
            raise LayoutError(f"line {lineno}: hit time {parts[0]!r} must be finite and >= 0", path)
        names = [(p if p != "None" else None) for p in parts[1:4]] + [None] * 3
        hits.append({"time": t, "kind": names[1] or "hit", "material": names[0] or "unknown", "reaction": names[2]})
    return tuple(sorted(hits, key=lambda h: h["time"]))


def read_greatest_hits(root: str | Path, *, val_share: float = 0.05) -> list[RealClip]:
    """Every recording under ``root`` that has a video and a ``_times.txt``; split by a hash of its name."""
    root = Path(root)
    if not root.is_dir():
        raise LayoutError("is not a folder", root)
    out = []
    for times in sorted(root.rglob("*_times.txt")):
        name = times.name[: -len("_times.txt")]
        video = next((times.with_name(f"{name}_denoised{s}") for s in VIDEO_SUFFIXES
                      if times.with_name(f"{name}_denoised{s}").is_file()), None)
        if video is None:
            log.warning("%s: no %s_denoised video beside it (skipped)", times, name)
            continue
        wav = times.with_name(f"{name}_denoised.wav")
        hits = _read_times(times)
        mats = [h["material"] for h in hits if h["material"] != "unknown"]
        label = max(set(mats), key=mats.count) if mats else "unknown"
        bucket = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        out.append(RealClip(video, label, "val" if bucket < val_share else "train", 0.0, None,
                            wav if wav.is_file() else None, hits))
    if not out:
        raise LayoutError("holds no NAME_times.txt with a NAME_denoised video beside it", root)
    return out


# -- decoding ----------------------------------------------------------------------------------------
def decode_video(path: Path, fps: Fraction, size: int, start: float, duration: float | None) -> np.ndarray:
    """uint8 [T, size, size, 3]: the frame shown at each time start + k / fps (a hold), resized whole."""
    from av.video.reformatter import Interpolation, VideoReformatter

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise LayoutError("has no video stream", path)
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            frame_s = float(1 / rate) if rate else 0.0  # how long the last frame shows
            end = math.inf if duration is None else start + duration
            reformatter = VideoReformatter()
            frames: list[tuple[float, np.ndarray]] = []
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                if frame.time > end:
                    break
                img = reformatter.reformat(frame, width=size, height=size, format="rgb24",
                                           interpolation=Interpolation.AREA).to_ndarray()
                if frames and frame.time <= start:
                    frames[-1] = (frame.time, img)  # only the last frame at or before the start is needed
                else:
                    frames.append((frame.time, img))
    except av.error.FFmpegError as exc:
        raise LayoutError(f"cannot decode: {exc}", path) from exc
    if not frames:
        raise LayoutError(f"has no video frame before {end:g} s", path)
    stop = frames[-1][0] + frame_s if duration is None else end
    n = max(1, int(math.floor((stop - start) * fps + 1e-9)))
    times = np.array([t for t, _ in frames])
    want = start + np.arange(n) / float(fps)
    idx = np.clip(np.searchsorted(times, want + 1e-9, side="right") - 1, 0, len(frames) - 1)
    return np.stack([frames[i][1] for i in idx])


def decode_audio(path: Path, sample_rate: int, start: float, n_samples: int) -> np.ndarray:
    """float32 mono [n_samples] at ``sample_rate`` from ``start`` s (zeros where the file has none)."""
    out = np.zeros(n_samples, np.float32)
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                log.warning("%s: no audio stream; the clip is silent", path)
                return out
            stream = container.streams.audio[0]
            first = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            chunks = []
            for frame in container.decode(stream):
                for f in resampler.resample(frame):
                    chunks.append(f.to_ndarray().reshape(-1))
            for f in resampler.resample(None):
                chunks.append(f.to_ndarray().reshape(-1))
    except av.error.FFmpegError as exc:
        raise LayoutError(f"cannot decode audio: {exc}", path) from exc
    pcm = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    offset = round((start - first) * sample_rate)  # sample of the file's audio at `start`
    src = pcm[max(0, offset): max(0, offset) + n_samples - max(0, -offset)]
    out[max(0, -offset): max(0, -offset) + len(src)] = src
    return out


# -- the cache and the training set --------------------------------------------------------------------
def _cache_key(clip: RealClip, fps: Fraction, size: int, sample_rate: int) -> str:
    parts = [CACHE_VERSION, str(fps), size, sample_rate, clip.start, clip.duration]
    for p in (clip.video, clip.audio):
        if p is not None:
            st = p.stat()
            parts += [str(p.resolve()), st.st_size, st.st_mtime_ns]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:24]


def load_clip(clip: RealClip, fps: Fraction, size: int, sample_rate: int, cache_dir: Path) -> tuple[np.ndarray,
                                                                                                      np.ndarray]:
    """(frames uint8 [T, S, S, 3], audio float32 [T * sample_rate / fps]), decoded once then cached."""
    path = cache_dir / f"{_cache_key(clip, fps, size, sample_rate)}.npz"
    if path.exists():
        with np.load(path) as z:
            return z["frames"], z["audio"].astype(np.float32)
    frames = decode_video(clip.video, fps, size, clip.start, clip.duration)
    n = round(len(frames) * sample_rate / fps)
    audio = decode_audio(clip.audio or clip.video, sample_rate, clip.start, n)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, frames=frames, audio=audio.astype(np.float16))
    tmp.replace(path)
    return frames, audio


def build_real_set(clips: Sequence[RealClip], cfg, cache_dir: str | Path):
    """Cut every clip into windows of ``cfg.data.duration`` s (no overlap; a shorter tail is dropped)."""
    from .dataset import make_set

    d, a = cfg.data, cfg.audio
    fps, cache_dir = Fraction(d.fps), Path(cache_dir)
    win_frames = round(d.duration * fps)
    win_samples = round(d.duration * a.sample_rate)
    frames, audio, events, index = [], [], [], []
    for clip in clips:
        f, x = load_clip(clip, fps, d.frame_size, a.sample_rate, cache_dir)
        for w in range(len(f) // win_frames):
            t0 = w * d.duration
            frames.append(f[w * win_frames:(w + 1) * win_frames])
            audio.append(x[w * win_samples:(w + 1) * win_samples])
            hits = clip.hits or ()
            events.append([{**h, "time": h["time"] - clip.start - t0} for h in hits
                           if 0 <= h["time"] - clip.start - t0 < d.duration])
            index.append({"video": str(clip.video), "start": clip.start + t0, "label": clip.label})
    if not frames:
        raise LayoutError(f"no clip is {d.duration:g} s long or longer", clips[0].video if clips else None)
    return make_set(cfg, frames, audio, events, list(range(len(frames)))), index


def write_workdir_sets(clips: Sequence[RealClip], cfg, workdir: str | Path) -> dict[str, Path]:
    """``workdir/cache/{train,val}.npz`` (+ ``.index.json``) for the training stages; test rows go to val."""
    from .dataset import save_set

    workdir = Path(workdir)
    out = {}
    for split in ("train", "val"):
        chosen = [c for c in clips if (c.split == split) or (split == "val" and c.split == "test")]
        if not chosen:
            raise LayoutError(f"no {split} clips (splits found: {sorted({c.split for c in clips})})", workdir)
        s, index = build_real_set(chosen, cfg, workdir / "cache" / "decoded")
        path = workdir / "cache" / f"{split}.npz"
        save_set(path, s)
        path.with_suffix(".index.json").write_text(json.dumps(index, indent=1))
        log.info("%s: %d windows of %g s from %d clips", path, len(s), cfg.data.duration, len(chosen))
        out[split] = path
    return out


def main(argv: Sequence[str] | None = None) -> int:
    from .config import TrainConfig

    p = argparse.ArgumentParser(prog="python -m foleyflow.export.real", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="layout", required=True)
    v = sub.add_parser("vggsound", help="a VGGSound-style CSV and a folder of its clips")
    v.add_argument("--csv", required=True)
    v.add_argument("--videos", required=True)
    g = sub.add_parser("greatest-hits", help="a folder in the Greatest Hits layout")
    g.add_argument("--root", required=True)
    g.add_argument("--val-share", type=float, default=0.05)
    for s in (v, g):
        s.add_argument("--workdir", required=True, help="training folder: writes cache/train.npz and cache/val.npz")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    workdir = Path(args.workdir)
    cfg_path = workdir / "config.json"
    cfg = TrainConfig.from_dict(json.loads(cfg_path.read_text())) if cfg_path.exists() else TrainConfig()
    try:
        clips = (read_vggsound_csv(args.csv, args.videos) if args.layout == "vggsound"
                 else read_greatest_hits(args.root, val_share=args.val_share))
        write_workdir_sets(clips, cfg, workdir)
    except FoleyFlowError as exc:
        print(f"error: {exc}")
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
