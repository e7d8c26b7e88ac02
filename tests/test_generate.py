"""Frames decoded and samples written for each timing case, checked to the frame and the sample;
variations sharing one decode and one video encode per window."""

import math
from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
import soundfile as sf
from conftest import write_indexed_video
from model_fixtures import DEFAULT_MODEL

from foleyflow.plugin import generate as generate_mod
from foleyflow.plugin import service
from foleyflow.plugin.clips import video_clips
from foleyflow.plugin.errors import MediaError
from foleyflow.plugin.events import EventKind
from foleyflow.plugin.generate import Engine, GenerateOptions, default_model_dir, generate_take, take_paths
from foleyflow.plugin.media import MediaResolver
from foleyflow.plugin.selection import plan

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange
NTSC = 24000 / 1001
P24 = Fraction(1001, 24000)


def timeline_with(items, rate=NTSC, tracks=None):
    tl = otio.schema.Timeline(global_start_time=RT(0, rate))
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    track.extend(items)
    tl.tracks.append(track)
    return tl


def media_clip(path, start, dur, rate=NTSC, name="shot", available=None):
    ref = otio.schema.ExternalReference(target_url=Path(path).as_uri(), available_range=available)
    return otio.schema.Clip(name=name, media_reference=ref, source_range=TR(RT(start, rate), RT(dur, rate)))


def jobs_of(tl, rate):
    return plan(video_clips(tl, Fraction(rate)), MediaResolver(None))


def expected_indices(n_frames, media_of_k, file_rate):
    return [math.floor(media_of_k(Fraction(k, 25)) * file_rate) for k in range(n_frames)]


def run_one(engine, job, tmp_path, **opts):
    take = generate_take(engine, job, tmp_path / "wavs", GenerateOptions(**opts))
    call = engine.model.calls[-1]
    return take, call


def count_readers(monkeypatch):
    """Every FrameReader the generator opens (the decode of a clip), kept to count them and their frames."""
    opened = []

    class Counting(generate_mod.FrameReader):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr(generate_mod, "FrameReader", Counting)
    return opened


def check_wav(take, n):
    for p in take.media:
        info = sf.info(str(p))
        assert (info.frames, info.samplerate, info.subtype) == (n, 48000, "PCM_24")


def test_24000_1001_record_range_frames_and_samples(fake_engine, video_24, tmp_path):
    gap = otio.schema.Gap(source_range=TR(RT(0, NTSC), RT(5, NTSC)))
    tl = timeline_with([gap, media_clip(video_24, 10, 37)])
    job = jobs_of(tl, NTSC)[0]
    assert job.info.record_range == TR(RT(5, NTSC), RT(37, NTSC))
    assert job.n_samples == 37 * 2002  # exact at 24000/1001
    take, call = run_one(fake_engine, job, tmp_path)
    n = math.ceil(Fraction(37 * 2002 * 25, 48000))
    assert call["frames"] == expected_indices(n, lambda t: 10 * P24 + t, Fraction(24000, 1001))
    assert call["frames"][:3] == [10, 10, 11]
    check_wav(take, 37 * 2002)
    assert take.record_range == job.info.record_range


def test_speed_change_consumes_media_faster(fake_engine, video_24, tmp_path):
    c = media_clip(video_24, 10, 24)
    c.effects.append(otio.schema.LinearTimeWarp(time_scalar=2.0))
    job = jobs_of(timeline_with([c]), NTSC)[0]
    assert job.info.record_range.duration == RT(24, NTSC) and job.n_samples == 24 * 2002
    take, call = run_one(fake_engine, job, tmp_path)
    assert call["frames"] == expected_indices(len(call["frames"]), lambda t: 10 * P24 + 2 * t, Fraction(24000, 1001))
    assert call["frames"][-1] >= 10 + 2 * 23 - 1
    check_wav(take, 24 * 2002)


def test_freeze_frame_holds_one_frame(fake_engine, video_24, tmp_path):
    c = media_clip(video_24, 42, 30)
    c.effects.append(otio.schema.FreezeFrame())
    take, call = run_one(fake_engine, jobs_of(timeline_with([c]), NTSC)[0], tmp_path)
    assert set(call["frames"]) == {42}
    check_wav(take, 30 * 2002)


def test_nested_stack_with_speed(fake_engine, video_24, tmp_path):
    # a stack at half speed, trimmed to its frames 4..20, holding a clip from media frame 30
    inner = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    inner.append(media_clip(video_24, 30, 40))
    stack = otio.schema.Stack(name="nest", source_range=TR(RT(4, NTSC), RT(20, NTSC)))
    stack.append(inner)
    stack.effects.append(otio.schema.LinearTimeWarp(time_scalar=0.5))
    gap = otio.schema.Gap(source_range=TR(RT(0, NTSC), RT(3, NTSC)))
    job = jobs_of(timeline_with([gap, stack]), NTSC)[0]
    assert job.info.id == "V1:1.0.0" and job.info.record_range == TR(RT(3, NTSC), RT(20, NTSC))
    take, call = run_one(fake_engine, job, tmp_path)
    # record r (from 3 frames) -> stack time 4 + r/2 frames -> media 30 + that
    assert call["frames"] == expected_indices(len(call["frames"]), lambda t: (34 * P24) + t / 2, Fraction(24000, 1001))
    check_wav(take, 20 * 2002)


def test_transition_generates_under_the_crossfade(fake_engine, video_24, tmp_path):
    a, b = media_clip(video_24, 0, 20, name="a"), media_clip(video_24, 50, 20, name="b")
    tr = otio.schema.Transition(in_offset=RT(3, NTSC), out_offset=RT(4, NTSC))
    jobs = jobs_of(timeline_with([a, tr, b]), NTSC)
    assert [j.info.record_range for j in jobs] == [TR(RT(0, NTSC), RT(24, NTSC)), TR(RT(17, NTSC), RT(23, NTSC))]
    take, call = run_one(fake_engine, jobs[1], tmp_path)
    assert call["frames"][0] == 47  # 3 frames before b's cut-in
    check_wav(take, 23 * 2002)


def test_15fps_clip_in_30fps_sequence(fake_engine, tmp_path):
    video = write_indexed_video(tmp_path / "m" / "fifteen.mp4", 60, Fraction(15))
    tl = timeline_with([otio.schema.Gap(source_range=TR(RT(0, 30), RT(10, 30))), media_clip(video, 4, 20, rate=15)],
                       rate=30)
    job = jobs_of(tl, 30)[0]
    assert job.info.record_range == TR(RT(10, 30), RT(40, 30)) and job.n_samples == 64000
    take, call = run_one(fake_engine, job, tmp_path)
    assert call["frames"] == expected_indices(len(call["frames"]), lambda t: Fraction(4, 15) + t, Fraction(15))
    check_wav(take, 64000)


def test_media_start_from_reference_and_from_file_timecode(fake_engine, tmp_path):
    plain = write_indexed_video(tmp_path / "m" / "plain.mp4", 48, Fraction(24))
    tc = write_indexed_video(tmp_path / "m" / "tc.mov", 48, Fraction(24), timecode="01:00:00:00")
    by_ref = media_clip(plain, 86410, 12, rate=24, available=TR(RT(86400, 24), RT(48, 24)))
    by_tc = media_clip(tc, 86420, 12, rate=24)
    jobs = jobs_of(timeline_with([by_ref, by_tc], rate=24), 24)
    _, call = run_one(fake_engine, jobs[0], tmp_path)
    assert call["frames"][0] == 10
    _, call = run_one(fake_engine, jobs[1], tmp_path)
    assert call["frames"][0] == 20


def test_source_outside_the_media_fails_that_clip_only(fake_engine, video_24, tmp_path):
    bad = media_clip(video_24, 86400, 10, name="needs a timecode")
    good = media_clip(video_24, 0, 10, name="fine")
    jobs = jobs_of(timeline_with([bad, good]), NTSC)
    with pytest.raises(MediaError) as info:
        generate_take(fake_engine, jobs[0], tmp_path, GenerateOptions())
    assert "idx_2398.mp4" in str(info.value) and "start timecode" in str(info.value)
    events = []
    report = service.run(fake_engine, jobs, tmp_path / "wavs", GenerateOptions(), events.append)
    assert [r.ok for r in report.results] == [False, True]
    assert [e.kind for e in events if e.kind != EventKind.SEGMENTS] == [
        EventKind.CLIP_START, EventKind.CLIP_FAILED, EventKind.CLIP_START, EventKind.CLIP_DONE]
    assert [e.kind for e in events if e.kind != "segments"] == ["clip-start", "clip-failed", "clip-start", "clip-done"]
    assert report.audio_seconds == pytest.approx(10 * 1001 / 24000, abs=1 / 48000)


def test_variations_and_seeds(fake_engine, video_24, tmp_path, monkeypatch):
    readers = count_readers(monkeypatch)
    job = jobs_of(timeline_with([media_clip(video_24, 0, 10)]), NTSC)[0]
    take = generate_take(fake_engine, job, tmp_path, GenerateOptions(seed=5, variations=3, steps=6, guidance=1.5))
    assert [c["seed"] for c in fake_engine.model.calls] == [5, 6, 7]
    # a one-seed generator's variations run side by side on one decode of the clip
    assert len(readers) == 1 and len({tuple(c["frames"]) for c in fake_engine.model.calls}) == 1
    waves = [sf.read(str(p), dtype="float32")[0] for p in take.media]
    assert not np.allclose(waves[0], waves[1])  # each its own seed
    assert [p.name for p in take.media] == ["V1_0_shot_seed5.wav", "V1_0_shot_seed6.wav", "V1_0_shot_seed7.wav"]
    assert take.metadata["steps"] == 6 and take.metadata["guidance"] == 1.5 and take.metadata["seeds"] == [5, 6, 7]
    assert take.metadata["model_checksum"] == "0" * 64 and take.metadata["model"] == "fake"
    assert take_paths(job, tmp_path, GenerateOptions(seed=5, variations=3)) == list(take.media)


def test_same_seed_same_bytes(fake_engine, video_24, tmp_path):
    job = jobs_of(timeline_with([media_clip(video_24, 0, 10)]), NTSC)[0]
    a = generate_take(fake_engine, job, tmp_path / "a", GenerateOptions(seed=1)).media[0].read_bytes()
    b = generate_take(fake_engine, job, tmp_path / "b", GenerateOptions(seed=1)).media[0].read_bytes()
    assert a == b


def test_cancel_stops_the_run(fake_engine, video_24, tmp_path):
    from foleyflow.runtime.errors import CancelledError

    jobs = jobs_of(timeline_with([media_clip(video_24, 0, 100)]), NTSC)
    with pytest.raises(CancelledError):
        generate_take(fake_engine, jobs[0], tmp_path, GenerateOptions(variations=2), cancel=lambda: True)
    calls = len(fake_engine.model.calls)
    report = service.run(fake_engine, jobs, tmp_path, GenerateOptions(), cancel=lambda: True)
    assert report.cancelled and not report.takes and len(fake_engine.model.calls) == calls  # not even started
    assert not any(tmp_path.rglob("*.wav"))


def test_default_model_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("FOLEYFLOW_MODEL", raising=False)
    assert default_model_dir() == Path(__file__).resolve().parents[1] / "models" / "default"
    monkeypatch.setenv("FOLEYFLOW_MODEL", str(tmp_path))
    assert default_model_dir() == tmp_path


# -- variations share the work: one decode, one video encode per window ---------------------------------
class CountingBackend:
    """A runtime Backend of small numpy graphs under the default package's contract, counting calls.

    Every output row depends on its own input row only (as the real graphs'), and the video
    condition drives the sound, so a take depends on the frames and on its seed.
    """

    checksum = "c" * 64
    provider = "CountingExecutionProvider"

    def __init__(self, spec):
        self.spec = spec
        self.calls = Counter()

    def encode_video(self, frames):  # [B, T, 3, S, S] -> [B, T, D]
        self.calls["encode_video"] += 1
        level = frames.mean(axis=(2, 3, 4))[..., None]  # [B, T, 1]
        return np.repeat(level, self.spec.feature_dim, axis=2).astype(np.float32)

    def velocity(self, x, t, cond, ctx, ctx_mask, uncond):  # [B, N, P] -> [B, N, P]
        self.calls["velocity"] += 1
        drive = cond[..., :1] * (1.0 - uncond[:, None, None])
        return (drive - 0.5 * x + ctx_mask * ctx).astype(np.float32)

    def vocode(self, mel):  # [B, F, n_mels] -> [B, F * hop]
        self.calls["vocode"] += 1
        return 0.05 * np.tanh(np.repeat(mel.mean(axis=2), self.spec.hop_length, axis=1)).astype(np.float32)


@pytest.mark.slow
def test_four_variations_decode_once_and_encode_the_video_once_per_window(tmp_path, monkeypatch):
    from foleyflow.runtime.generate import frames_needed, generate_audio, generate_variations
    from foleyflow.runtime.spec import read_spec
    from foleyflow.runtime.stream import plan_segments

    spec = read_spec(DEFAULT_MODEL)
    video = write_indexed_video(tmp_path / "m" / "minute.mp4", 60 * 25, Fraction(25), size=16, gop=25)
    job = jobs_of(timeline_with([media_clip(video, 0, 60 * 25, rate=25)], rate=25), 25)[0]
    assert job.n_samples == 60 * 48000
    windows = len(plan_segments(frames_needed(spec, job.n_samples), spec.segment_tokens, spec.context_tokens,
                                spec.lookahead_tokens))
    assert windows > 10  # a minute is many windows: sharing them is what is measured
    backend = CountingBackend(spec)
    engine = Engine(backend, generate_audio, frames_needed, generate_variations)
    readers = count_readers(monkeypatch)
    options = GenerateOptions(seed=3, variations=4, steps=2)
    take = generate_take(engine, job, tmp_path / "four", options)
    assert len(readers) == 1  # one decode of the clip for the four variations
    decoded = readers[0].decoded
    assert 0 < decoded <= 60 * 25 + 2
    assert backend.calls["encode_video"] == windows  # once per window, for all four seeds
    assert backend.calls["vocode"] == windows  # the four rows vocoded together
    assert backend.calls["velocity"] == windows * 2  # two solver steps, the four seeds (with guidance) as one batch
    assert [p.name for p in take.media] == [f"V1_0_shot_seed{s}.wav" for s in (3, 4, 5, 6)]

    # the same takes as four one-seed runs, each decoding the clip and encoding its video again
    for seed, wav in zip(options.seeds(), take.media, strict=True):
        single = generate_take(engine, job, tmp_path / f"one{seed}", GenerateOptions(seed=seed, steps=2))
        a, rate_a = sf.read(str(wav), dtype="float64")
        b, rate_b = sf.read(str(single.media[0]), dtype="float64")
        assert rate_a == rate_b == 48000 and len(a) == len(b) == job.n_samples
        assert np.max(np.abs(a - b)) <= 2.0**-23  # equal to PCM_24 resolution
    assert len(readers) == 5 and all(r.decoded == decoded for r in readers)
    assert backend.calls["encode_video"] == 5 * windows
    first, second = (sf.read(str(p), dtype="float64")[0] for p in take.media[:2])
    assert np.abs(first - second).max() > 1e-3  # and the seeds do differ


def test_variation_chunks_are_rows_of_one_batch(fake_engine, video_24):
    frames = [np.zeros((8, 8, 3), np.uint8) for _ in range(4)]
    chunks = list(fake_engine.variations(iter(frames), 9000, [1, 2]))
    assert all(c.shape[0] == 2 for c in chunks) and sum(c.shape[1] for c in chunks) == 9000
    one = np.concatenate([c[0] for c in fake_engine.variations(iter(frames), 9000, [2])], axis=0)
    assert np.array_equal(np.concatenate([c[1] for c in chunks]), one)
