"""The Blender VSE add-on (hosts/blender): its pure logic here, and the add-on inside real headless Blender.

The Blender tests install the zipped add-on into a throw-away user folder, lay out
movie strips (one trimmed) on a 25 fps and a 24000/1001 scene, run
``bpy.ops.sequencer.foleyflow_generate()`` with the venv's ``foleyflow`` and the
bundled model, and check that the sound strips sit on the movie strips' frames,
that the WAVs hold round(strip seconds x 48000) samples, and that Blender's own
mixdown has the takes' sound where the takes put it. They are skipped only where
``blender`` is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
HOST = REPO / "hosts" / "blender"
BLENDER = shutil.which("blender")
FOLEYFLOW = Path(sys.executable).with_name("foleyflow")
needs_blender = pytest.mark.skipif(BLENDER is None, reason="blender is not installed here (Debian: apt-get "
                                                           "install blender); the add-on runs only inside it")


def _load_core():
    spec = importlib.util.spec_from_file_location("foleyflow_blender_core", HOST / "foleyflow_blender" / "core.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


core = _load_core()


# -- test media: a ball that bounces (the model answers each bounce with a hit) ----------------------
def write_ball(path: Path, rate: Fraction, n: int, hits=(0.6, 1.5, 2.3, 3.3), timecode: str | None = None,
               size: int = 64) -> Path:
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "18"}
        if timecode:
            stream.metadata["timecode"] = timecode
        yy, xx = np.mgrid[0:size, 0:size]
        for k in range(n):
            t = float(k / rate)
            prev = max([0.0] + [h for h in hits if h <= t])
            nxt = min([h for h in hits if h > t] + [prev + 1.0])
            u = (t - prev) / (nxt - prev)
            y = size - 12 - 4 * (size - 24) * u * (1 - u)
            img = np.full((size, size, 3), 30, np.uint8)
            img[size - 6:] = (120, 90, 60)
            img[(yy - y) ** 2 + (xx - size / 2) ** 2 < 36] = (230, 230, 240)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = k
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


# -- pure logic (no Blender) ---------------------------------------------------------------------------
def test_rates_are_exact_fractions():
    assert core.scene_rate(24, 1.0010000467300415) == Fraction(24000, 1001)  # Blender's float32 1.001
    assert core.scene_rate(24, 1.001) == Fraction(24000, 1001)
    assert core.scene_rate(30, 1.001) == Fraction(30000, 1001)
    assert core.scene_rate(60, 1.001) == Fraction(60000, 1001)
    assert core.scene_rate(25, 1.0) == 25
    assert core.scene_rate(30000, 1001.0) == Fraction(30000, 1001)
    assert core.scene_rate(25, 2.0) == Fraction(25, 2)
    assert core.exact_rate(23.976022720336914) == Fraction(24000, 1001)  # a movie strip's .fps
    assert core.rate_text(Fraction(24000, 1001)) == "24000/1001" and core.rate_text(Fraction(25)) == "25"
    with pytest.raises(core.HostError):
        core.scene_rate(0, 1.0)


def _strips(tmp_path: Path) -> list:
    a = write_ball(tmp_path / "a.mp4", Fraction(24000, 1001), 96)
    b = write_ball(tmp_path / "b.mp4", Fraction(25), 100)
    S = core.MovieStrip
    return [
        # trimmed: frame_start 10, 5 frames cut at the head, 3 at the tail
        S("a", str(a), 1, 10, 15, 103, 96, 23.976022720336914),
        # a 25 fps movie on a 24000/1001 scene (Blender shows frame k at scene frame k): a time warp
        S("b", str(b), 3, 100, 100, 150, 100, 25.0, animation_offset_start=4),
        S("c", str(a), 1, 110, 112, 150, 96, 23.976022720336914, speed_factor=2.0),
    ]


def test_strips_to_otio_ranges(tmp_path):
    rate = Fraction(24000, 1001)
    written = core.build_timeline(_strips(tmp_path), rate, start_frame=1)
    assert written.origin == 1 and written.clip_strips == {"V1:1": "a", "V1:3": "c", "V2:1": "b"}
    tl = otio.adapters.read_from_string(json.dumps(written.doc), "otio_json")
    assert [t.kind for t in tl.tracks] == ["Video", "Video"]
    assert tl.global_start_time == otio.opentime.RationalTime(1, float(rate))
    v1 = tl.tracks[0]
    a = v1[1]
    assert v1.range_of_child_at_index(1) == otio.opentime.TimeRange(
        otio.opentime.RationalTime(14, float(rate)), otio.opentime.RationalTime(88, float(rate)))
    assert a.source_range.start_time.value == 5 and a.media_reference.available_range.start_time.value == 0
    assert a.media_reference.available_range.duration.value == 96 and not a.effects
    c = v1[3]
    assert c.source_range.start_time.value == 4  # (112 - 110) frames at speed 2
    assert c.effects[0].time_scalar == pytest.approx(2.0)
    b = tl.tracks[1][1]
    assert b.source_range.start_time == otio.opentime.RationalTime(4, 25)  # its animation offset, in file frames
    assert b.effects[0].time_scalar == pytest.approx(float(rate / 25))

    # what the CLI reads of it: the same frames, seconds and sample counts
    path = tmp_path / "tl.otio"
    path.write_text(json.dumps(written.doc))
    res = subprocess.run([str(FOLEYFLOW), "clips", str(path), "--json"], capture_output=True, text=True, check=True)
    clips = {c["id"]: c for c in json.loads(res.stdout)["clips"]}
    assert json.loads(res.stdout)["rate"] == "24000/1001"
    for cid, (first, end) in {"V1:1": (15, 103), "V1:3": (112, 150), "V2:1": (100, 150)}.items():
        got = clips[cid]
        assert got["status"] == "found"
        assert Fraction(got["record_start_s"]).limit_denominator(10**6) == Fraction(first - 1) / rate
        assert got["samples"] == round(Fraction(end - first) / rate * 48000)
    assert clips["V1:1"]["speed"] == 1.0 and clips["V1:1"]["source_in"] == "00:00:00:05"
    assert clips["V1:3"]["speed"] == pytest.approx(2 * float(rate) / 24000 * 1001)
    assert clips["V2:1"]["speed"] == pytest.approx(float(rate) / 25)


def test_strip_before_the_start_frame_moves_the_origin(tmp_path):
    strips = _strips(tmp_path)[:1]
    written = core.build_timeline(strips, Fraction(25), start_frame=100)
    assert written.origin == 15 and written.doc["global_start_time"]["value"] == 15
    assert written.doc["tracks"]["children"][0]["children"][0]["OTIO_SCHEMA"] == "Clip.2"  # no gap first


def test_reading_takes_back():
    rt = core.rational_time
    rate = Fraction(25)
    take = {"OTIO_SCHEMA": "Clip.2", "name": "Foley a", "metadata": {"foleyflow": {
        "source_clip": "V1:1", "samples": 96000, "seed": 3}},
        "source_range": core.time_range(0, rate, 50),
        "media_references": {
            "take1": {"OTIO_SCHEMA": "ExternalReference.1", "target_url": "takes_foley/a%20b_seed3.wav",
                      "metadata": {"foleyflow": {"seed": 3, "variation": 1}}},
            "take2": {"OTIO_SCHEMA": "ExternalReference.1", "target_url": "file:///abs/a_seed4.wav",
                      "metadata": {"foleyflow": {"seed": 4, "variation": 2}}}},
        "active_media_reference_key": "take1"}
    gap = {"OTIO_SCHEMA": "Gap.1", "source_range": {"OTIO_SCHEMA": "TimeRange.1", "start_time": rt(0, rate),
                                                    "duration": rt(14, rate)}}
    doc = {"OTIO_SCHEMA": "Timeline.1", "tracks": {"OTIO_SCHEMA": "Stack.1", "children": [
        {"OTIO_SCHEMA": "Track.1", "kind": "Video", "children": [gap]},
        {"OTIO_SCHEMA": "Track.1", "kind": "Audio", "metadata": {"foleyflow": {"role": "foley"}},
         "children": [gap, take]}]}}
    (t,) = core.read_takes(doc, "/out")
    assert t.source_clip == "V1:1" and t.start == Fraction(14, 25) and t.duration == 2
    assert t.frames(rate, origin=1) == (15, 65)
    assert [(f.path, f.seed, f.variation, f.active) for f in t.files] == [
        ("/out/takes_foley/a b_seed3.wav", 3, 1, True), ("/abs/a_seed4.wav", 4, 2, False)]


def test_channels_commands_and_messages():
    occupied = [(2, 0, 100), (3, 50, 80)]
    assert core.free_channel(occupied, 60, 90, lowest=2) == 4
    assert core.free_channel(occupied, 80, 90, lowest=2) == 3  # [50, 80) ends where this starts
    assert core.free_channel(occupied, 100, 120, lowest=2) == 2
    with pytest.raises(core.HostError):
        core.free_channel([(c, 0, 10) for c in range(1, 129)], 5, 6, lowest=1)
    base = ["ff", "generate", "in.otio", "-o", "out.otio", "--seed", "7"]
    assert core.command("ff", "in.otio", "out.otio", core.Options(seed=7)) == base
    assert core.command("ff", "in.otio", "out.otio", core.Options(steps=9, seed=7, variations=3, model="/m", sound="  ")) == base + [
        "--steps", "9", "--variations", "3", "--model", "/m"]  # an empty sound prompt passes nothing
    assert core.command("ff", "in.otio", "out.otio", core.Options(seed=7, sound="dog bark"))[-2:] == [
        "--sound", "dog bark"]
    err = "foleyflow: model x\nfoleyflow: error: /m: no model.json\n"
    assert core.error_line(err, 2) == "foleyflow: error: /m: no model.json"
    assert core.error_line("usage: ...\nfoleyflow generate: error: bad --steps\n", 2).endswith("bad --steps")
    assert core.error_line("Segmentation fault\n", -11) == "foleyflow exited with code -11: Segmentation fault"
    assert core.progress("[2/3] V1:1 a: done (0.4 s elapsed)") == (2, 3)
    assert core.failed_lines("[1/2] V1:1 a: FAILED: decode\n[2/2] V2:1 b: done (1 s)") == [
        "[1/2] V1:1 a: FAILED: decode"]


def test_zip_holds_the_package(tmp_path):
    out = tmp_path / "addon.zip"
    subprocess.run([sys.executable, str(HOST / "build_zip.py"), "-o", str(out)], check=True, capture_output=True)
    import zipfile

    names = zipfile.ZipFile(out).namelist()
    assert "foleyflow_blender/__init__.py" in names and "foleyflow_blender/core.py" in names
    assert not any("__pycache__" in n for n in names)
    first = out.read_bytes()
    subprocess.run([sys.executable, str(HOST / "build_zip.py"), "-o", str(out)], check=True, capture_output=True)
    assert out.read_bytes() == first  # the same sources make the same zip


# -- inside Blender --------------------------------------------------------------------------------------
SCRIPT = textwrap.dedent(r'''
    import json, os, sys
    import bpy

    cfg = json.load(open(sys.argv[sys.argv.index("--") + 1]))
    bpy.ops.preferences.addon_install(filepath=cfg["zip"])
    bpy.ops.preferences.addon_enable(module="foleyflow_blender")
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = cfg["fps"], cfg["fps_base"]
    scene.frame_start = cfg["frame_start"]
    se = scene.sequence_editor_create()
    settings = scene.foleyflow
    settings.output_dir = cfg["out_dir"]
    settings.variations = cfg.get("variations", 1)
    settings.seed = cfg.get("seed", 0)
    movies = []
    for m in cfg["movies"]:
        s = se.sequences.new_movie(m["name"], m["path"], m["channel"], m["frame"])
        s.frame_offset_start, s.frame_offset_end = m.get("trim", (0, 0))
        movies.append((s, m.get("select", True)))

    def select(on=True):
        for s in se.sequences_all:
            s.select = False
        for s, chosen in movies:
            s.select = on and chosen

    def call(*args, **kw):
        """(the operator's result, or the error it reported: bpy.ops raises for an ERROR report)."""
        try:
            return {"result": sorted(bpy.ops.sequencer.foleyflow_generate(*args, **kw))}
        except RuntimeError as exc:
            return {"error": str(exc)}

    def state():
        out = []
        for s in sorted(se.sequences_all, key=lambda s: (s.channel, s.frame_final_start)):
            d = {"name": s.name, "type": s.type, "channel": s.channel, "start": s.frame_final_start,
                 "end": s.frame_final_end, "mute": s.mute, "source": s.get("foleyflow_source"),
                 "seed": s.get("foleyflow_seed"), "variation": s.get("foleyflow_variation")}
            if s.type == "SOUND":
                d["path"] = bpy.path.abspath(s.sound.filepath)
            out.append(d)
        return out

    result = {"cases": {}}
    if cfg["mode"] == "generate":
        select()
        result["cases"]["generate"] = call()
        result["strips"] = state()
        scene.frame_end = max(s.frame_final_end for s in se.sequences_all)
        scene.render.ffmpeg.audio_mixrate = 48000
        scene.render.ffmpeg.audio_channels = "MONO"
        bpy.ops.sound.mixdown(filepath=cfg["mixdown"], container="WAV", codec="PCM", format="F32")
        if cfg.get("reroll"):
            result["cases"]["reroll"] = call(reroll=True)
            result["after_reroll"] = state()
            result["seed_after_reroll"] = settings.seed
    else:
        select(False)
        result["cases"]["no_selection"] = call()
        result["cases"]["no_selection_invoked"] = call("INVOKE_DEFAULT")
        select()
        os.environ["FOLEYFLOW_EXE"] = cfg["bad_exe"]
        result["cases"]["no_executable"] = call()
        os.environ["FOLEYFLOW_EXE"] = cfg["exe"]
        settings.model = cfg["bad_model"]
        result["cases"]["cli_fails"] = call()
        settings.model = ""
        good = movies[0][0].filepath
        movies[0][0].filepath = cfg["missing_movie"]
        result["cases"]["missing_media"] = call()
        result["strips"] = state()
        movies[0][0].filepath = good

        # the sidebar panel and the preferences draw (a stub layout that checks every property it is given)
        import types
        import foleyflow_blender as ffb

        drawn = []
        prefs = bpy.context.preferences.addons["foleyflow_blender"].preferences

        class Layout:
            def __getattr__(self, name):
                def call(*args, **kw):
                    if name == "prop":
                        owner = prefs if isinstance(args[0], types.SimpleNamespace) else args[0]
                        assert args[1] in owner.bl_rna.properties, args[1]
                    if name == "operator":
                        assert hasattr(bpy.types, "SEQUENCER_OT_foleyflow_generate"), args[0]
                    drawn.append([name, [a if isinstance(a, str) else type(a).__name__ for a in args], kw])
                    return Layout()
                return call

        ffb.SEQUENCER_PT_foleyflow.draw(types.SimpleNamespace(layout=Layout()), bpy.context)
        ffb.FoleyFlowPreferences.draw(types.SimpleNamespace(layout=Layout(), executable=prefs.executable), bpy.context)
        panel = bpy.types.SEQUENCER_PT_foleyflow
        result["panel"] = {"drawn": drawn, "where": [panel.bl_space_type, panel.bl_region_type, panel.bl_category]}

        # what the modal operator does from the UI, step by step: start, poll, read progress, finish
        import time

        run = ffb.prepare(bpy.context, False)
        run.start()
        while run.proc.poll() is None:
            time.sleep(0.05)
        rc = run.join()
        added, warnings = ffb.finish(run, rc)
        result["async"] = {"rc": rc, "done": run.done, "total": run.total, "added": added, "warnings": warnings,
                           "strips": state()}
        # ... and Esc: the subprocess is stopped, nothing is placed
        run = ffb.prepare(bpy.context, False)
        run.start()
        time.sleep(0.5)
        run.cancel()
        rc = run.join()
        try:
            ffb.finish(run, rc)
            message = None
        except ffb.core.HostError as exc:
            message = str(exc)
        result["cancel"] = {"rc": rc, "message": message, "output": os.path.exists(run.output),
                            "sounds": len([s for s in se.sequences_all if s.type == "SOUND"])}
    json.dump(result, open(cfg["result"], "w"), indent=1)
''')


def run_blender(tmp_path: Path, cfg: dict, timeout: float = 240) -> dict:
    zip_path = tmp_path / "foleyflow_blender.zip"
    subprocess.run([sys.executable, str(HOST / "build_zip.py"), "-o", str(zip_path)], check=True, capture_output=True)
    script = tmp_path / "blender_script.py"
    script.write_text(SCRIPT)
    cfg = dict(cfg, zip=str(zip_path), result=str(tmp_path / "result.json"), out_dir=str(tmp_path / "runs"),
               exe=str(FOLEYFLOW))
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps(cfg))
    user = tmp_path / "blender_user"
    env = dict(os.environ, BLENDER_USER_CONFIG=str(user / "config"), BLENDER_USER_SCRIPTS=str(user / "scripts"),
               BLENDER_USER_DATAFILES=str(user / "datafiles"), FOLEYFLOW_EXE=str(FOLEYFLOW))
    env.pop("FOLEYFLOW_MODEL", None)
    res = subprocess.run([BLENDER, "-b", "--factory-startup", "--python-exit-code", "1", "--python", str(script),
                          "--", str(cfg_path)], capture_output=True, text=True, env=env, timeout=timeout)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    assert "Traceback" not in res.stdout + res.stderr, res.stdout[-4000:] + res.stderr[-4000:]
    assert (user / "scripts" / "addons" / "foleyflow_blender" / "core.py").is_file()  # installed there, not in ~
    return json.loads((tmp_path / "result.json").read_text())


def envelope(x: np.ndarray, hop: int = 240) -> np.ndarray:
    n = len(x) // hop
    return np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1))


def best_lag(ref: np.ndarray, got: np.ndarray, max_lag: int) -> tuple[int, float]:
    """(lag of ``got`` behind ``ref`` in envelope hops, normalised correlation there)."""
    ref = ref - ref.mean()
    got = got - got.mean()
    best = (0, -2.0)
    for lag in range(-max_lag, max_lag + 1):
        a = ref[max(0, -lag): len(ref) - max(0, lag)]
        b = got[max(0, lag): len(got) - max(0, -lag)]
        n = min(len(a), len(b))
        c = float(np.dot(a[:n], b[:n]) / (np.linalg.norm(a[:n]) * np.linalg.norm(b[:n]) + 1e-12))
        if c > best[1]:
            best = (lag, c)
    return best


SCENES = {
    # 25 fps, starting at frame 1: an untrimmed strip and a trimmed one on another channel
    "25fps": dict(fps=25, fps_base=1.0, rate=Fraction(25), frame_start=1, movie_rate=Fraction(25), frames=100,
                  movies=[dict(name="ball A", channel=1, frame=10),
                          dict(name="ball B", channel=2, frame=130, trim=(12, 9))],
                  variations=1, reroll=True),
    # 24000/1001, starting at frame 5, a movie whose file says 01:00:00:00 (Blender ignores it), two
    # variations, and an unselected strip that takes the first free channel above the movies under B
    "24000_1001": dict(fps=24, fps_base=1.001, rate=Fraction(24000, 1001), frame_start=5,
                       movie_rate=Fraction(24000, 1001), frames=96, timecode="01:00:00:00",
                       movies=[dict(name="ball A", channel=2, frame=20, trim=(0, 6)),
                               dict(name="ball B", channel=3, frame=140, trim=(7, 13)),
                               dict(name="other", channel=4, frame=150, select=False)],
                       variations=2, reroll=False),
}


@pytest.mark.slow
@needs_blender
@pytest.mark.parametrize("scene", sorted(SCENES))
def test_generate_in_blender(tmp_path, scene):
    sc = SCENES[scene]
    rate = sc["rate"]
    movie = write_ball(tmp_path / f"ball_{scene}.mp4", sc["movie_rate"], sc["frames"], timecode=sc.get("timecode"))
    movies = [dict(m, path=str(movie)) for m in sc["movies"]]
    mixdown = tmp_path / "mixdown.wav"
    res = run_blender(tmp_path, dict(mode="generate", fps=sc["fps"], fps_base=sc["fps_base"],
                                     frame_start=sc["frame_start"], movies=movies, mixdown=str(mixdown),
                                     variations=sc["variations"], seed=3, reroll=sc["reroll"]))
    assert res["cases"]["generate"] == {"result": ["FINISHED"]}
    strips = res["strips"]
    chosen = [s for s in strips if s["type"] == "MOVIE" and s["name"] in
              {m["name"] for m in sc["movies"] if m.get("select", True)}]
    sounds = [s for s in strips if s["type"] == "SOUND"]
    assert len(chosen) == 2 and len(sounds) == 2 * sc["variations"]
    top = max(m["channel"] for m in chosen)
    for m in chosen:
        mine = sorted((s for s in sounds if s["source"] == m["name"]), key=lambda s: s["variation"])
        assert [s["variation"] for s in mine] == list(range(1, sc["variations"] + 1))
        assert [s["seed"] for s in mine] == list(range(3, 3 + sc["variations"]))
        assert [s["mute"] for s in mine] == [False] + [True] * (sc["variations"] - 1)  # the first take is heard
        for s in mine:
            assert (s["start"], s["end"]) == (m["start"], m["end"]), (s, m)
            assert s["channel"] > top and s["name"].startswith(f"Foley {m['name']}")
            info = sf.info(s["path"])
            assert info.samplerate == 48000
            assert info.frames == round(Fraction(m["end"] - m["start"]) / rate * 48000)
    for a in strips:  # nothing overlaps on a channel
        for b in strips:
            if a is not b and a["channel"] == b["channel"]:
                assert a["end"] <= b["start"] or b["end"] <= a["start"], (a, b)
    if scene == "24000_1001":  # "other" holds channel 4 under B, so B's takes went above it
        b_channels = sorted(s["channel"] for s in sounds if s["source"] == "ball B")
        assert b_channels == [5, 6]

    # the timeline the add-on wrote, as the CLI reads it: the strips' frames exactly
    run_dir = Path(sounds[0]["path"]).parents[1]
    listed = subprocess.run([str(FOLEYFLOW), "clips", str(run_dir / "timeline.otio"), "--json"],
                            capture_output=True, text=True, check=True)
    listing = json.loads(listed.stdout)
    assert listing["rate"] == core.rate_text(rate)
    origin = min(sc["frame_start"], *(m["start"] for m in chosen))
    got = sorted((Fraction(c["record_start_s"]).limit_denominator(10**6), c["samples"], c["source_in"],
                  c["status"]) for c in listing["clips"])
    trims = {m["name"]: m.get("trim", (0, 0)) for m in sc["movies"]}
    want = sorted((Fraction(m["start"] - origin) / rate, round(Fraction(m["end"] - m["start"]) / rate * 48000),
                   f"00:00:00:{trims[m['name']][0]:02d}", "found") for m in chosen)  # the file's frames, not 01:00:00:00
    assert got == want

    # Blender's mixdown has each heard take where its strip puts it (a strip at frame F sounds at
    # (F - frame_start) / fps): the energy envelopes line up within one frame
    mix, sr = sf.read(str(mixdown), always_2d=True)
    assert sr == 48000
    mix = mix.mean(axis=1)
    hop, frame_hops = 240, 48000 / float(rate) / 240
    env_mix = envelope(mix, hop)
    for s in sounds:
        if s["mute"]:
            continue
        take, _ = sf.read(s["path"], always_2d=True)
        (m,) = [m for m in chosen if m["name"] == s["source"]]
        at = round(Fraction(m["start"] - sc["frame_start"]) / rate * 48000)  # where the movie strip starts
        expect = np.zeros_like(mix)
        expect[at: at + len(take)] = take[: len(mix) - at, 0]
        lo, hi = max(0, at // hop - 50), min(len(env_mix), (at + len(take)) // hop + 50)
        lag, corr = best_lag(envelope(expect, hop)[lo:hi], env_mix[lo:hi], max_lag=50)
        assert abs(lag) <= frame_hops, f"{s['name']}: mixdown lags its take by {lag * hop / 48:.1f} ms"
        assert corr > 0.9, f"{s['name']}: the mixdown does not hold its take (correlation {corr:.2f})"
        # the take's first loud onset, in the mixdown, within a frame of where the take puts it
        ref_env = envelope(expect, hop)
        onset_ref = int(np.argmax(ref_env > 0.3 * ref_env.max()))
        onset_mix = lo + int(np.argmax(env_mix[lo:hi] > 0.3 * env_mix[lo:hi].max()))
        assert abs(onset_mix - onset_ref) <= frame_hops

    if sc["reroll"]:  # a new seed, and the previous Foley strips replaced
        assert res["cases"]["reroll"] == {"result": ["FINISHED"]}
        assert res["seed_after_reroll"] == 3 + sc["variations"]
        after = [s for s in res["after_reroll"] if s["type"] == "SOUND"]
        assert len(after) == len(sounds)
        assert {s["seed"] for s in after} == {3 + sc["variations"]}
        assert not {s["path"] for s in after} & {s["path"] for s in sounds}
        for m in chosen:
            (s,) = [s for s in after if s["source"] == m["name"]]
            assert (s["start"], s["end"]) == (m["start"], m["end"])


@pytest.mark.slow
@needs_blender
def test_errors_in_blender(tmp_path):
    movie = write_ball(tmp_path / "ball.mp4", Fraction(25), 50)
    res = run_blender(tmp_path, dict(
        mode="errors", fps=25, fps_base=1.0, frame_start=1, movies=[dict(name="ball", channel=1, frame=1, path=str(movie))],
        bad_exe=str(tmp_path / "no" / "foleyflow"), bad_model=str(tmp_path / "no_model"),
        missing_movie=str(tmp_path / "gone.mp4")))
    cases = res["cases"]
    # bpy.ops turns the operator's ERROR report (it returns CANCELLED) into a RuntimeError with the message
    assert cases["no_selection"] == {"error": "Error: select one or more movie strips in the Sequencer "
                                              "(nothing is selected)\n"}
    assert cases["no_selection_invoked"] == cases["no_selection"]
    assert "foleyflow executable not found" in cases["no_executable"]["error"]
    assert str(tmp_path / "no" / "foleyflow") in cases["no_executable"]["error"]
    assert cases["cli_fails"]["error"].startswith("Error: foleyflow: error: ")
    assert str(tmp_path / "no_model") in cases["cli_fails"]["error"]
    assert "ball" in cases["missing_media"]["error"] and "gone.mp4" in cases["missing_media"]["error"]
    assert not [s for s in res["strips"] if s["type"] == "SOUND"]  # nothing was added

    panel = res["panel"]
    assert panel["where"] == ["SEQUENCE_EDITOR", "UI", "Foley"]
    props = [d[1][1] for d in panel["drawn"] if d[0] == "prop"]
    assert props[:6] == ["model", "steps", "seed", "variations", "sound_prompt", "output_dir"]
    assert props[6] == "executable"  # the preferences
    buttons = [(d[1][0], d[2]["text"]) for d in panel["drawn"] if d[0] == "operator"]
    assert buttons == [("sequencer.foleyflow_generate", "Generate"), ("sequencer.foleyflow_generate", "Re-roll")]

    # the modal operator's way (subprocess polled, progress read from its stderr), then a cancel
    done = res["async"]
    assert (done["rc"], done["done"], done["total"], done["added"], done["warnings"]) == (0, 1, 1, 1, [])
    (sound,) = [s for s in done["strips"] if s["type"] == "SOUND"]
    assert (sound["start"], sound["end"], sound["channel"]) == (1, 51, 2)
    cancel = res["cancel"]
    assert cancel["rc"] != 0 and cancel["message"] == "foleyflow was cancelled"  # 130 once the CLI runs
    assert not cancel["output"] and cancel["sounds"] == 1
