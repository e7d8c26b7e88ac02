"""runtime.prompt: checking sound prompts, preparing references, and generating with each kind."""

import numpy as np
import pytest
from model_fixtures import DEFAULT_MODEL
from tiny_prompts import prompt_package

from foleyflow.runtime.errors import FoleyFlowError, PromptError
from foleyflow.runtime.generate import frames_needed, generate_audio, generate_variations
from foleyflow.runtime.prompt import (
    CategoryPrompt,
    ReferencePrompt,
    check_prompt,
    prepare_reference,
    prompt_vector,
)
from foleyflow.runtime.session import FoleyModel
from foleyflow.runtime.spec import read_spec

N = 48000 * 3  # 3 s at 48 kHz: two segments of the tiny model's 4 s windows


@pytest.fixture(scope="module")
def default_model() -> FoleyModel:
    return FoleyModel.load(DEFAULT_MODEL, provider="cpu")


@pytest.fixture(scope="module")
def model() -> FoleyModel:
    return FoleyModel.load(prompt_package(), provider="cpu")


def _frames(n: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(n)]


def _hit(n: int = 12000, seed: int = 0, rate: int = 16000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.3 * rng.standard_normal(n) * np.exp(-np.arange(n) / (rate / 30))).astype(np.float32)


def _take(model, prompt, seed: int = 1, **kw) -> np.ndarray:
    frames = _frames(frames_needed(model.spec, N))
    return np.concatenate(list(generate_audio(model, frames, N, seed=seed, steps=2, prompt=prompt, **kw)))


# -- check_prompt ----------------------------------------------------------------------------------------
def test_the_default_model_takes_no_prompts_and_says_so(default_model):
    spec = default_model.spec
    assert spec.prompt_dim == 0 and spec.vocabulary == () and spec.prompt_samples == 0
    check_prompt(spec, None)  # auto is always fine
    for prompt in (CategoryPrompt("WOODImpt"), ReferencePrompt(_hit())):
        with pytest.raises(PromptError) as e:
            check_prompt(spec, prompt)
        assert type(e.value) is PromptError and isinstance(e.value, FoleyFlowError) and e.value.exit_code == 2
        assert str(e.value) == f"model {spec.name} takes no sound prompts (auto only)"
    with pytest.raises(PromptError, match="takes no sound prompts"):  # before any work
        next(generate_audio(default_model, iter([]), N, prompt=CategoryPrompt("WOODImpt")))


def test_an_unknown_category_is_named_with_the_vocabulary():
    spec = read_spec(prompt_package())
    check_prompt(spec, CategoryPrompt(spec.vocabulary[0]))
    with pytest.raises(PromptError) as e:
        check_prompt(spec, CategoryPrompt("FEETHmn"))
    assert "'FEETHmn'" in str(e.value) and ", ".join(spec.vocabulary) in str(e.value)
    with pytest.raises(PromptError, match=f"did you mean {spec.vocabulary[0]}"):
        check_prompt(spec, CategoryPrompt(spec.vocabulary[0].upper()))


@pytest.mark.parametrize("wave, problem", [
    (np.zeros(0, np.float32), "empty"),
    (np.zeros(8000, np.float32), "silent"),
    (np.full(8000, 1e-6, np.float32), "silent"),
    (np.array([0.1, np.nan, 0.2], np.float32), "not finite"),
    (np.array([0.1, np.inf], np.float32), "not finite"),
    (np.ones((2, 8000), np.float32) * 0.1, "mono"),
])
def test_a_bad_reference_is_a_prompt_error(wave, problem):
    spec = read_spec(prompt_package())
    with pytest.raises(PromptError, match=problem):
        check_prompt(spec, ReferencePrompt(wave))


def test_a_reference_of_any_length_is_fine():
    spec = read_spec(prompt_package())
    for n in (1, 100, spec.prompt_samples, 10 * spec.prompt_samples):
        check_prompt(spec, ReferencePrompt(_hit(n) + 0.01))
    check_prompt(spec, ReferencePrompt(_hit()[None]))  # [1, n] is mono too


def test_not_a_prompt():
    with pytest.raises(PromptError, match="not a sound prompt"):
        check_prompt(read_spec(prompt_package()), "WOODImpt")  # type: ignore[arg-type]


# -- prepare_reference -----------------------------------------------------------------------------------
def test_a_reference_is_cut_from_its_onset_padded_and_peak_normalised():
    rate = 16000
    x = np.zeros(20000, np.float32)
    x[5000:9000] = _hit(4000) * 0.2
    y = prepare_reference(x, 8000, rate)
    assert y.dtype == np.float32 and y.shape == (8000,)
    assert np.isclose(np.abs(y).max(), 1.0)
    start = int(np.argmax(np.abs(x) >= np.abs(x).max() * 10 ** (-30 / 20))) - int(0.002 * rate)
    assert 5000 - 32 <= start <= 5000  # the onset less a 2 ms pre-roll
    np.testing.assert_allclose(y[: 9000 - start], x[start:9000] / np.abs(x).max(), rtol=1e-6)
    assert not y[9000 - start :].any()  # zero-padded
    assert prepare_reference(np.ones(100_000, np.float32), 8000, rate).shape == (8000,)  # cut
    assert not prepare_reference(np.zeros(10, np.float32), 50, rate).any()


# -- generating with prompts -----------------------------------------------------------------------------
def test_a_prompt_model_generates_with_every_kind_of_prompt(model):
    spec = model.spec
    assert spec.prompt_dim == 16 and len(spec.vocabulary) >= 2 and spec.prompt_samples == spec.sample_rate
    takes = {"auto": _take(model, None), "a": _take(model, CategoryPrompt(spec.vocabulary[0])),
             "b": _take(model, CategoryPrompt(spec.vocabulary[-1])), "ref": _take(model, ReferencePrompt(_hit()))}
    for y in takes.values():
        assert y.shape == (N,) and y.dtype == np.float32 and np.all(np.isfinite(y)) and np.abs(y).max() > 0
    assert np.abs(takes["a"] - takes["b"]).max() > 1e-3  # different categories, different audio
    assert np.abs(takes["a"] - takes["auto"]).max() > 1e-3
    assert np.abs(takes["ref"] - takes["auto"]).max() > 1e-3


def test_same_seed_and_prompt_same_audio(model):
    cat = CategoryPrompt(model.spec.vocabulary[0])
    np.testing.assert_array_equal(_take(model, cat), _take(model, CategoryPrompt(model.spec.vocabulary[0])))
    ref = _hit(seed=3)
    np.testing.assert_array_equal(_take(model, ReferencePrompt(ref)), _take(model, ReferencePrompt(ref.copy())))
    assert np.abs(_take(model, cat, seed=1) - _take(model, cat, seed=2)).max() > 1e-3


def test_variations_share_the_prompt(model):
    cat = CategoryPrompt(model.spec.vocabulary[-1])
    frames = _frames(frames_needed(model.spec, N))
    rows = np.concatenate(list(generate_variations(model, frames, N, (1, 5), steps=2, prompt=cat)), axis=1)
    for r, seed in enumerate((1, 5)):
        np.testing.assert_allclose(rows[r], _take(model, cat, seed=seed), atol=1e-4)


class Recording:
    """The tiny prompt model behind a wrapper that records the prompt inputs of each velocity call."""

    def __init__(self, inner: FoleyModel) -> None:
        self.inner, self.spec = inner, inner.spec
        self.calls: list[tuple[np.ndarray | None, np.ndarray | None, np.ndarray]] = []
        self.encoded: list[str] = []

    def encode_video(self, frames):
        return self.inner.encode_video(frames)

    def velocity(self, x, t, cond, ctx, ctx_mask, uncond, prompt=None, prompt_on=None):
        self.calls.append((prompt, prompt_on, uncond))
        return self.inner.velocity(x, t, cond, ctx, ctx_mask, uncond, prompt, prompt_on)

    def vocode(self, mel):
        return self.inner.vocode(mel)

    def encode_reference(self, wave):
        self.encoded.append("reference")
        assert wave.shape == (1, self.spec.prompt_samples) and np.isclose(np.abs(wave).max(), 1.0)
        return self.inner.encode_reference(wave)

    def encode_category(self, index):
        self.encoded.append("category")
        return self.inner.encode_category(index)


def test_guidance_drops_the_prompt_on_the_unconditioned_rows_and_the_prompt_is_encoded_once(model):
    rec = Recording(model)
    frames = _frames(frames_needed(model.spec, N))
    list(generate_variations(rec, frames, N, (1, 2), steps=2, guidance=3.0, prompt=ReferencePrompt(_hit())))
    assert rec.encoded == ["reference"]
    want = prompt_vector(model, ReferencePrompt(_hit()))
    for prompt, on, uncond in rec.calls:
        assert prompt.shape == (4, model.spec.prompt_dim) and np.allclose(prompt, want)  # V = 2 rows, twice
        assert on.tolist() == [1.0, 1.0, 0.0, 0.0] and uncond.tolist() == [0.0, 0.0, 1.0, 1.0]
    rec.calls.clear()
    list(generate_audio(rec, frames, N, steps=2, guidance=1.0, prompt=CategoryPrompt(model.spec.vocabulary[0])))
    assert rec.encoded == ["reference", "category"]
    assert all(on.tolist() == [1.0] and uncond.tolist() == [0.0] for _, on, uncond in rec.calls)
    rec.calls.clear()
    list(generate_audio(rec, frames, N, steps=2))  # auto: no prompt inputs at all (the backend feeds "none")
    assert rec.calls and all(p is None and on is None for p, on, _ in rec.calls)


def test_a_prompt_guided_on_its_own_runs_three_rows_and_changes_the_take(model):
    """prompt_guidance (per call, else the package's) other than the guidance: each step is one call of
    3V rows (video + prompt, video alone, neither); equal to it, the two-row take exactly; auto ignores it."""
    rec = Recording(model)
    frames = _frames(frames_needed(model.spec, N))
    cat = CategoryPrompt(model.spec.vocabulary[0])
    strong = np.concatenate(list(generate_audio(rec, frames, N, seed=1, steps=2, guidance=3.0, prompt=cat,
                                                prompt_guidance=6.0)))
    assert rec.calls and all(on.tolist() == [1.0, 0.0, 0.0] and uncond.tolist() == [0.0, 0.0, 1.0]
                             for _, on, uncond in rec.calls)
    same = _take(model, cat, guidance=3.0, prompt_guidance=3.0)
    np.testing.assert_array_equal(same, _take(model, cat, guidance=3.0))
    assert np.abs(strong - same).max() > 1e-3
    np.testing.assert_array_equal(_take(model, None, guidance=3.0, prompt_guidance=6.0), _take(model, None, guidance=3.0))


def test_the_package_default_prompt_guidance_is_used(model, tmp_path):
    import json
    import shutil

    pkg = tmp_path / "pkg"
    shutil.copytree(prompt_package(), pkg)
    data = json.loads((pkg / "model.json").read_text())
    assert "prompt_guidance" not in data  # unset: left out of model.json
    data["prompt_guidance"] = 6.0
    (pkg / "model.json").write_text(json.dumps(data))
    tuned = FoleyModel.load(pkg, provider="cpu")
    assert tuned.spec.prompt_guidance == 6.0
    cat = CategoryPrompt(model.spec.vocabulary[0])
    np.testing.assert_allclose(_take(tuned, cat, guidance=3.0), _take(model, cat, guidance=3.0, prompt_guidance=6.0),
                               atol=1e-5)


def test_auto_is_the_prompt_off_state(model):
    """prompt=None feeds the graph prompt_on = 0: the same as any prompt vector with the flag off."""
    rng = np.random.default_rng(0)
    spec = model.spec
    n = spec.segment_tokens
    feeds = dict(x=rng.standard_normal((2, n, spec.token_dim), dtype=np.float32), t=np.array([0.2, 0.6], np.float32),
                 cond=rng.standard_normal((2, n, spec.feature_dim), dtype=np.float32),
                 ctx=np.zeros((2, n, spec.token_dim), np.float32), ctx_mask=np.zeros((2, n, 1), np.float32),
                 uncond=np.zeros(2, np.float32))
    auto = model.velocity(**feeds)
    off = model.velocity(**feeds, prompt=rng.standard_normal((2, spec.prompt_dim), dtype=np.float32),
                         prompt_on=np.zeros(2, np.float32))
    np.testing.assert_allclose(auto, off, atol=1e-6)
    on = model.velocity(**feeds, prompt=rng.standard_normal((2, spec.prompt_dim), dtype=np.float32),
                        prompt_on=np.ones(2, np.float32))
    assert np.abs(on - auto).max() > 1e-4


def test_a_prompt_to_a_model_without_prompts_never_reaches_its_graphs(default_model):
    with pytest.raises(ValueError, match="takes no sound prompts"):
        default_model.encode_category(np.array([0], np.int64))
    spec = default_model.spec
    x = np.zeros((1, spec.segment_tokens, spec.token_dim), np.float32)
    with pytest.raises(ValueError, match="takes no sound prompts"):
        default_model.velocity(x, np.zeros(1, np.float32), np.zeros((1, spec.segment_tokens, spec.feature_dim),
                               np.float32), x, x[..., :1], np.zeros(1, np.float32), prompt=np.zeros((1, 4), np.float32))


def test_the_default_model_generates_the_same_with_prompt_none(default_model):
    frames = _frames(frames_needed(default_model.spec, N))
    a = np.concatenate(list(generate_audio(default_model, frames, N, seed=4, steps=2)))
    b = np.concatenate(list(generate_audio(default_model, frames, N, seed=4, steps=2, prompt=None)))
    np.testing.assert_array_equal(a, b)

