"""SIGKILL ``foleyflow generate`` at seeded random moments and check that nothing is lost.

    python scripts/kill_trials.py                     # the full run: 24 trials, seed 0
    python scripts/kill_trials.py --trials 40 --seed 7 --workdir /tmp/kills --keep

Each trial starts ``python -m foleyflow.plugin.cli generate cut.otio -o OUT/cut.otio --steps 2`` on
the bundled model (five clips, 11 s of audio) and SIGKILLs it after a delay drawn from a seeded
random generator over the measured length of a whole run. Half the trials write into a fresh
folder, half over the whole result of an earlier run (the kill then lands while files are being
replaced). After the kill:

1. the input timeline and media are byte-identical;
2. every WAV under a final name is whole: it reads, 48 kHz PCM_24, exactly its clip's sample count
   (a killed writer leaves at most a hidden temporary ``.NAME.foleyflow.tmp-PID.HOST-RANDOM.wav``,
   never a final name);
3. the output timeline is absent or whole: it parses and each Foley clip plays a whole WAV;
4. a re-run (not killed) exits 0, its result passes 2 and 3, and the killed run's temporary
   files are gone (the re-run removes those of dead processes).

Prints one line per trial and a summary (where the kills landed); exits 1 if any trial failed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import opentimelineio as otio
import soundfile as sf

from foleyflow.plugin.atomic import temp_writer
from foleyflow.plugin.video_out import write_video

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "models" / "default"
RATE = 25
# (name, media frames, source start, duration) in frames at 25 fps, on V1 (the last one on V2)
CLIPS = (("door", 80, 5, 50), ("steps", 100, 0, 75), ("cup", 60, 10, 40), ("drop", 90, 20, 60),
         ("engine", 80, 0, 50))


@dataclass
class Workspace:
    root: Path
    timeline: Path
    inputs: dict[str, str]  # path -> sha256 of every input file
    samples: dict[str, int]  # final WAV name -> exact sample count


@dataclass
class Trial:
    index: int
    delay: float
    overwrite: bool
    landed: str = ""  # where the kill landed: before-output, during-wavs, wavs-done, timeline-written, finished
    problems: list[str] = field(default_factory=list)
    killed_temps: int = 0  # temporary files the kill left (never under a final name)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_video(path: Path, frames: int, seed: int) -> None:
    """A small H.264 file (32 px) whose frames change colour: enough for the decoder and the model."""
    rng = np.random.default_rng(seed)
    write_video(path, (np.full((32, 32, 3), rng.integers(0, 255, 3), np.uint8) for _ in range(frames)),
                Fraction(RATE), preset="ultrafast")


def make_workspace(root: Path) -> Workspace:
    """Media and a two-track timeline under ``root/in``; the expected sample count of every take."""
    media_dir = root / "in"
    media_dir.mkdir(parents=True)
    tl = otio.schema.Timeline(name="kill trials")
    v1, v2 = otio.schema.Track(name="V1"), otio.schema.Track(name="V2")
    tl.tracks.extend([v1, v2])
    samples = {}
    for k, (name, frames, start, dur) in enumerate(CLIPS):
        media = media_dir / f"{name}.mp4"
        _write_video(media, frames, k)
        rng = otio.opentime.TimeRange(otio.opentime.RationalTime(start, RATE), otio.opentime.RationalTime(dur, RATE))
        clip = otio.schema.Clip(name=name, media_reference=otio.schema.ExternalReference(target_url=media.as_uri()),
                                source_range=rng)
        track = v2 if k == len(CLIPS) - 1 else v1
        if track is v1 and k == 2:
            track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, RATE), otio.opentime.RationalTime(12, RATE))))
        track.append(clip)
        label = "V2" if track is v2 else "V1"
        samples[f"{label}_{len(track) - 1}_{name}_seed0.wav"] = dur * 48000 // RATE
    timeline = media_dir / "cut.otio"
    otio.adapters.write_to_file(tl, str(timeline))
    inputs = {str(p): _sha(p) for p in media_dir.iterdir()}
    return Workspace(root, timeline, inputs, samples)


def command(ws: Workspace, out: Path) -> list[str]:
    return [sys.executable, "-m", "foleyflow.plugin.cli", "generate", str(ws.timeline), "-o", str(out),
            "--model", str(MODEL), "--steps", "2", "-q"]


def check_result(ws: Workspace, out: Path, *, complete: bool) -> list[str]:
    """Problems with what a run left in ``out``'s folder (``complete``: it must be all there)."""
    problems = []
    for path, digest in ws.inputs.items():
        if _sha(Path(path)) != digest:
            problems.append(f"input changed: {path}")
    wav_dir = out.parent / f"{out.stem}_foley"
    finals = sorted(p for p in wav_dir.glob("*.wav") if not p.name.startswith(".")) if wav_dir.is_dir() else []
    for wav in finals:
        want = ws.samples.get(wav.name)
        try:
            info = sf.info(str(wav))
            data, _ = sf.read(str(wav), dtype="float32")
        except Exception as exc:  # a half-written file does not read
            problems.append(f"{wav.name}: unreadable under its final name ({exc})")
            continue
        if want is None:
            problems.append(f"{wav.name}: not a take of this timeline")
        elif (info.frames, len(data), info.samplerate, info.subtype) != (want, want, 48000, "PCM_24"):
            problems.append(f"{wav.name}: {info.frames} frames at {info.samplerate} Hz {info.subtype}, {want} expected")
    if complete and {p.name for p in finals} != set(ws.samples):
        problems.append(f"takes missing after a whole run: {sorted(set(ws.samples) - {p.name for p in finals})}")
    if out.exists():
        try:
            tl = otio.adapters.read_from_file(str(out))
        except Exception as exc:
            problems.append(f"{out.name}: does not parse ({exc})")
        else:
            foley = [c for t in tl.audio_tracks() for c in t if isinstance(c, otio.schema.Clip)]
            if len(foley) != len(ws.samples):
                problems.append(f"{out.name}: {len(foley)} Foley clips, {len(ws.samples)} expected")
            for c in foley:
                wav = out.parent / unquote(c.media_reference.target_url)
                if wav.name not in {p.name for p in finals}:
                    problems.append(f"{out.name}: plays {wav.name}, which is not a whole WAV")
    elif complete:
        problems.append(f"{out.name}: not written by a whole run")
    return problems


def temps(out: Path) -> list[Path]:
    """Temporary names (of :mod:`foleyflow.plugin.atomic`) left in the output folder and the WAV folder."""
    found = [p for p in out.parent.iterdir() if temp_writer(p.name)] if out.parent.is_dir() else []
    wav_dir = out.parent / f"{out.stem}_foley"
    if wav_dir.is_dir():
        found += [p for p in wav_dir.iterdir() if temp_writer(p.name)]
    return found


def _landed(ws: Workspace, out: Path, fresh_mtime: float) -> str:
    wav_dir = out.parent / f"{out.stem}_foley"
    new_wavs = [p for p in wav_dir.glob("*.wav") if p.stat().st_mtime >= fresh_mtime] if wav_dir.is_dir() else []
    if out.exists() and out.stat().st_mtime >= fresh_mtime:
        return "timeline-written"
    if len(new_wavs) == len(ws.samples):
        return "wavs-done"
    if new_wavs or temps(out):
        return "during-wavs"
    return "before-output"


def calibrate(ws: Workspace) -> tuple[float, Path]:
    """Run once unkilled: the wall time of a whole run, and its output folder (a reference result)."""
    out = ws.root / "reference" / "cut.otio"
    out.parent.mkdir()
    t0 = time.perf_counter()
    proc = subprocess.run(command(ws, out), capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"the reference run failed ({proc.returncode}):\n{proc.stderr}")
    problems = check_result(ws, out, complete=True)
    if problems:
        raise SystemExit("the reference run is not whole: " + "; ".join(problems))
    return wall, out.parent


def trial_folder(folder: Path, reference: Path, overwrite: bool) -> None:
    """A fresh folder, or one holding an old result (a copy of ``reference``) for the run to write over.

    The old result's take records are left out: it stands for a result made before takes were keyed,
    so nothing is reused and the run rewrites every take (the kill lands while it does).
    """
    if overwrite:
        shutil.copytree(reference, folder)
        shutil.rmtree(folder / "cut_foley" / ".foleyflow", ignore_errors=True)
    else:
        folder.mkdir()


def run_trial(ws: Workspace, index: int, delay: float, overwrite: bool, reference: Path) -> Trial:
    trial = Trial(index, delay, overwrite)
    folder = ws.root / f"trial-{index:02d}"
    trial_folder(folder, reference, overwrite)
    out = folder / "cut.otio"
    time.sleep(0.01)  # mtimes of the copied files are older than anything the run writes
    started = time.time()
    proc = subprocess.Popen(command(ws, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        proc.wait(timeout=delay)
        trial.landed = "finished"
    except subprocess.TimeoutExpired:
        trial.landed = _landed(ws, out, started)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    proc.stderr.close()
    trial.problems += check_result(ws, out, complete=trial.landed == "finished")
    left = temps(out)
    trial.killed_temps = len(left)
    rerun = subprocess.run(command(ws, out), capture_output=True, text=True, timeout=600)
    if rerun.returncode != 0:
        trial.problems.append(f"the re-run exited {rerun.returncode}: {rerun.stderr.strip()[-500:]}")
    trial.problems += [f"after the re-run: {p}" for p in check_result(ws, out, complete=True)]
    stale = [p.name for p in temps(out)]
    if stale:
        trial.problems.append(f"temporary files left after the re-run: {stale}")
    return trial


def run_trials(n: int, seed: int, root: Path, log: Callable[[str], None] = print) -> list[Trial]:
    ws = make_workspace(root)
    wall, reference = calibrate(ws)
    log(f"a whole run takes {wall:.2f} s; killing {n} runs at seeded moments (seed {seed})")
    rng = random.Random(seed)
    trials = []
    for i in range(n):
        delay = rng.uniform(0.15, 1.05) * wall
        trial = run_trial(ws, i, delay, overwrite=i % 2 == 1, reference=reference)
        trials.append(trial)
        mode = "over an old result" if trial.overwrite else "fresh folder      "
        status = "ok" if trial.ok else "FAILED: " + "; ".join(trial.problems)
        log(f"trial {i:2d}  kill at {delay:5.2f} s  {mode}  landed {trial.landed:16s} "
            f"temps left {trial.killed_temps}  {status}")
    return trials


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=24, help="number of kills (default 24)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments (default 0)")
    parser.add_argument("--workdir", type=Path, help="where to work (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    root = args.workdir or Path(tempfile.mkdtemp(prefix="foleyflow-kills-"))
    if args.workdir:
        root.mkdir(parents=True, exist_ok=False)
    try:
        trials = run_trials(args.trials, args.seed, root)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    survived = sum(t.ok for t in trials)
    landed = Counter(t.landed for t in trials)
    print(f"{survived}/{len(trials)} kills survived; landed: "
          + ", ".join(f"{k} {v}" for k, v in sorted(landed.items())))
    if args.keep:
        print(f"work folder kept: {root}")
    return 0 if survived == len(trials) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
