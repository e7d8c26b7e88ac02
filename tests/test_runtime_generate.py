import numpy as np
import pytest
from model_fixtures import DEFAULT_MODEL

from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.errors import CancelledError
from foleyflow.runtime.generate import frames_needed, generate_audio, generate_variations
from foleyflow.runtime.session import FoleyModel, fixed_batch
from foleyflow.runtime.stream import plan_segments


@pytest.fixture(scope="module")
def model() -> FoleyModel:
    return FoleyModel.load(DEFAULT_MODEL, provider="cpu")


def _frames(n: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(n)]


@pytest.mark.parametrize("n_samples", [1, 1919, 1920, 48000, 200_001, 480_000])
def test_output_length_is_exact(model, n_samples):
    frames = _frames(frames_needed(model.spec, n_samples))
    chunks = list(generate_audio(model, frames, n_samples, steps=2))
    y = np.concatenate(chunks)
    assert len(y) == n_samples and y.dtype == np.float32
    assert np.all(np.abs(y) <= 1.0) and np.isfinite(y).all()


def test_frames_needed_matches_token_rate(model):
    spec = model.spec
    assert frames_needed(spec, OUTPUT_RATE * 4) == 4 * spec.video_fps
    assert frames_needed(spec, 1) == 1


def test_same_seed_gives_identical_audio_and_streams_in_segments(model):
    n = OUTPUT_RATE * 9
    frames = _frames(frames_needed(model.spec, n))
    a = list(generate_audio(model, iter(frames), n, seed=11, steps=3))
    b = list(generate_audio(model, (f for f in frames), n, seed=11, steps=3))
    assert len(a) == _windows(model.spec, n) > 1  # one chunk per planned segment, not one array at the end
    assert np.array_equal(np.concatenate(a), np.concatenate(b))
    c = np.concatenate(list(generate_audio(model, iter(frames), n, seed=12, steps=3)))
    assert not np.allclose(np.concatenate(a), c)


def test_clip_edges_are_faded(model):
    n = OUTPUT_RATE * 2
    y = np.concatenate(list(generate_audio(model, _frames(frames_needed(model.spec, n)), n, steps=2)))
    assert abs(y[0]) < 1e-3 and abs(y[-1]) < 1e-3


def test_zero_samples_yields_nothing(model):
    assert list(generate_audio(model, _frames(1), 0)) == []


# -- variations: one encode per window, one velocity call per step for every seed ---------------
class CountingBackend:
    """The real model behind a wrapper that records the batch size of every graph call."""

    def __init__(self, inner: FoleyModel, spec=None) -> None:
        self.inner = inner
        self.spec = inner.spec if spec is None else spec
        self.calls: dict[str, list[int]] = {"video_encoder": [], "velocity": [], "vocoder": []}

    def encode_video(self, frames):
        self.calls["video_encoder"].append(len(frames))
        return self.inner.encode_video(frames)

    def velocity(self, x, t, cond, ctx, ctx_mask, uncond):
        assert len({len(a) for a in (x, t, cond, ctx, ctx_mask, uncond)}) == 1  # one batch axis for every input
        self.calls["velocity"].append(len(x))
        return self.inner.velocity(x, t, cond, ctx, ctx_mask, uncond)

    def vocode(self, mel):
        self.calls["vocoder"].append(len(mel))
        return self.inner.vocode(mel)


SEEDS = (3, 11, 0, 42)


def _windows(spec, n_samples: int) -> int:
    return len(plan_segments(frames_needed(spec, n_samples), spec.segment_tokens, spec.context_tokens,
                             spec.lookahead_tokens))


def _single(model, frames, n, seed, **kw) -> np.ndarray:
    return np.concatenate(list(generate_audio(model, iter(frames), n, seed=seed, **kw)))


@pytest.mark.slow
@pytest.mark.parametrize("guidance, batch", [(None, 2 * len(SEEDS)), (1.0, len(SEEDS))])
def test_variations_share_the_encoder_and_batch_the_seeds(model, guidance, batch):
    n, steps = OUTPUT_RATE * 9, 3
    frames = _frames(frames_needed(model.spec, n), seed=4)
    windows = _windows(model.spec, n)
    assert windows == 4
    counting = CountingBackend(model)
    chunks = list(generate_variations(counting, iter(frames), n, SEEDS, steps=steps, guidance=guidance))
    assert counting.calls["video_encoder"] == [1] * windows  # once per window, not once per seed
    assert counting.calls["velocity"] == [batch] * (windows * steps)  # one call per step: 2V guided, V unguided
    assert counting.calls["vocoder"] == [len(SEEDS)] * windows  # the V rows as one batch per segment
    assert len(chunks) == windows and all(c.dtype == np.float32 and c.shape[0] == len(SEEDS) for c in chunks)
    rows = np.concatenate(chunks, axis=1)
    assert rows.shape == (len(SEEDS), n)
    for v, seed in enumerate(SEEDS):  # row v is the take of seeds[v] alone, to float rounding
        np.testing.assert_allclose(rows[v], _single(model, frames, n, seed, steps=steps, guidance=guidance),
                                   rtol=0, atol=1e-5)
    assert not np.allclose(rows[0], rows[1])


def test_a_fixed_batch_graph_runs_once_per_seed_but_the_encoder_once_per_window(model):
    import dataclasses

    def fixed(name: str, b: int):
        g = model.spec.graphs[name]
        inputs = tuple(dataclasses.replace(i, shape=(b, *i.shape[1:])) for i in g.inputs)
        return dataclasses.replace(g, inputs=inputs)

    spec = dataclasses.replace(model.spec, graphs={**model.spec.graphs, "velocity": fixed("velocity", 2),
                                                   "vocoder": fixed("vocoder", 1)})
    assert fixed_batch(spec, "velocity") == 2 and fixed_batch(model.spec, "velocity") is None
    n, steps, seeds = OUTPUT_RATE * 5, 2, SEEDS[:3]
    frames = _frames(frames_needed(model.spec, n), seed=5)
    windows = _windows(model.spec, n)
    counting = CountingBackend(model, spec)
    rows = np.concatenate(list(generate_variations(counting, iter(frames), n, seeds, steps=steps)), axis=1)
    assert counting.calls["video_encoder"] == [1] * windows
    assert counting.calls["velocity"] == [2] * (windows * steps * len(seeds))
    assert counting.calls["vocoder"] == [1] * (windows * len(seeds))
    for v, seed in enumerate(seeds):  # the very calls of a one-seed run: the same bits
        np.testing.assert_array_equal(rows[v], _single(model, frames, n, seed, steps=steps))


def test_generate_audio_is_the_one_seed_case_and_makes_the_same_calls(model):
    n, steps = OUTPUT_RATE * 9, 2
    frames = _frames(frames_needed(model.spec, n), seed=6)
    counting = CountingBackend(model)
    a = list(generate_audio(counting, iter(frames), n, seed=8, steps=steps))
    windows = _windows(model.spec, n)
    assert counting.calls == {"video_encoder": [1] * windows, "velocity": [2] * (windows * steps),
                              "vocoder": [1] * windows}  # what a take cost before variations shared work
    b = list(generate_variations(model, iter(frames), n, [8], steps=steps))
    assert [x.shape for x in a] == [(y.shape[1],) for y in b] and all(x.ndim == 1 for x in a)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y[0])


def test_variations_read_the_frames_once_and_report_progress_per_segment(model):
    n = OUTPUT_RATE * 9
    frames = _frames(frames_needed(model.spec, n), seed=7)
    pulled = []

    def counted():
        for i, f in enumerate(frames):
            pulled.append(i)
            yield f

    seen = []
    list(generate_variations(model, counted(), n, SEEDS, steps=2, progress=lambda d, t: seen.append((d, t))))
    windows = _windows(model.spec, n)
    assert pulled == list(range(len(frames)))  # one pass, not one per seed
    assert seen == [(k + 1, windows) for k in range(windows)]


def test_variations_cancel_between_segments(model):
    n = OUTPUT_RATE * 9
    seen = []
    gen = generate_variations(model, _frames(frames_needed(model.spec, n)), n, SEEDS, steps=2,
                              progress=lambda d, t: seen.append(d), cancel=lambda: len(seen) >= 2)
    got = []
    with pytest.raises(CancelledError, match="before segment 3"):
        for chunk in gen:
            got.append(chunk)
    assert len(got) == 2 and seen == [1, 2]


def test_variations_need_a_seed_and_nothing_is_nothing(model):
    with pytest.raises(ValueError, match="at least one seed"):
        list(generate_variations(model, _frames(30), OUTPUT_RATE, []))
    assert list(generate_variations(model, _frames(1), 0, SEEDS)) == []
