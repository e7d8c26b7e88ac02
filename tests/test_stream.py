import numpy as np
import pytest
from model_fixtures import DEFAULT_MODEL

from foleyflow.runtime.errors import CancelledError
from foleyflow.runtime.session import FoleyModel
from foleyflow.runtime.stream import (
    SamplerSettings,
    generate_token_rows,
    generate_tokens,
    make_velocity,
    plan_segments,
)


@pytest.fixture(scope="module")
def model() -> FoleyModel:
    return FoleyModel.load(DEFAULT_MODEL, provider="cpu")


def _frames(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize("lookahead", [0, 12, 74])
@pytest.mark.parametrize("total", [1, 99, 100, 101, 163, 164, 175, 176, 1000])
def test_plan_covers_every_token_once_with_context_and_lookahead(total, lookahead):
    segs = plan_segments(total, 100, 25, lookahead)
    covered = []
    for s in segs:
        assert s.end - s.start == 100
        assert s.start <= s.new_start < s.new_end <= s.end
        if s.index:
            assert s.new_start - s.start >= 25
            assert s.start >= 0
        if s is not segs[-1]:
            assert s.end - s.new_end == lookahead  # every kept token but the last window's saw future video
        else:
            assert s.new_end == total
        covered.extend(range(s.new_start, s.new_end))
    assert covered == list(range(total))


def test_plan_lookahead_costs_windows():
    assert len(plan_segments(1000, 100, 25, 0)) == 13  # 100 + 11 x 75 + 75
    assert len(plan_segments(1000, 100, 25, 12)) == 16  # 88 + 14 x 63 + 30 (the last keeps what is left)


@pytest.mark.parametrize("lookahead", [-1, 75, 100])
def test_plan_refuses_a_lookahead_that_leaves_nothing_to_keep(lookahead):
    with pytest.raises(ValueError, match="lookahead"):
        plan_segments(1000, 100, 25, lookahead)


def test_plan_for_nothing_is_empty():
    assert plan_segments(0, 100, 25) == []


def test_same_seed_same_tokens_other_seed_other_tokens(model):
    s = SamplerSettings(seed=5, steps=4)
    a = np.concatenate([t for _, t in generate_tokens(model, _frames(180), 180, s)])
    b = np.concatenate([t for _, t in generate_tokens(model, list(_frames(180)), 180, s)])
    c = np.concatenate([t for _, t in generate_tokens(model, _frames(180), 180, SamplerSettings(seed=6, steps=4))])
    assert a.shape == (180, model.spec.token_dim)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_frames_are_pulled_one_window_at_a_time(model):
    pulled = []

    def counting():
        for i, f in enumerate(_frames(400)):
            pulled.append(i)
            yield f

    it = generate_tokens(model, counting(), 400, SamplerSettings(steps=2))
    next(it)
    assert len(pulled) == model.spec.segment_tokens  # not the whole clip
    next(it)
    assert len(pulled) <= 2 * model.spec.segment_tokens


def test_short_frame_supply_holds_the_last_frame(model):
    out = [t for _, t in generate_tokens(model, _frames(10), 120, SamplerSettings(steps=2))]
    assert sum(len(t) for t in out) == 120


def test_no_frames_at_all_is_an_error(model):
    with pytest.raises(ValueError, match="no video frames"):
        list(generate_tokens(model, iter([]), 50, SamplerSettings(steps=2)))


def test_progress_and_cancel_between_segments(model):
    seen = []
    gen = generate_tokens(model, _frames(400), 400, SamplerSettings(steps=2), progress=lambda d, n: seen.append((d, n)),
                          cancel=lambda: len(seen) >= 2)
    got = []
    with pytest.raises(CancelledError):
        for item in gen:
            got.append(item)
    n = len(plan_segments(400, model.spec.segment_tokens, model.spec.context_tokens, model.spec.lookahead_tokens))
    assert n == 7  # 80 + 5 x 55 + 45 with the default lookahead of 20
    assert seen == [(1, n), (2, n)] and len(got) == 2


def test_windows_fade_in_from_the_previous_windows_lookahead(model):
    """Crossfade on: a window's first new tokens start from the previous window's continuation."""
    import copy
    import dataclasses

    frames = list(_frames(300))
    s = SamplerSettings(seed=3, steps=2)
    plain = copy.copy(model)
    plain.spec = dataclasses.replace(model.spec, crossfade_tokens=0)
    a = list(generate_tokens(plain, iter(frames), 300, s))
    b = list(generate_tokens(model, iter(frames), 300, s))
    assert [seg for seg, _ in a] == [seg for seg, _ in b] and len(a) >= 3
    np.testing.assert_array_equal(a[0][1], b[0][1])  # the first window has nothing to fade from
    k = model.spec.crossfade_tokens
    np.testing.assert_array_equal(a[1][1][k:], b[1][1][k:])  # past the fade: the window's own tokens
    assert not np.allclose(a[1][1][:k], b[1][1][:k])
    # what the fade buys (onset F1 near joins) is measured by the bench's seams section, on the real model


@pytest.mark.slow
def test_token_rows_are_the_one_seed_runs_sampled_together(model):
    """Row v of a V-seed run is generate_tokens with seeds[v]; the window's encoding is shared."""
    frames = list(_frames(300, seed=2))
    seeds = (5, 6, 7)
    calls = {"encode": 0, "velocity": []}

    class Counting:
        spec = model.spec

        def encode_video(self, video):
            calls["encode"] += 1
            return model.encode_video(video)

        def velocity(self, x, *rest):
            calls["velocity"].append(len(x))
            return model.velocity(x, *rest)

    s = SamplerSettings(steps=2)
    out = list(generate_token_rows(Counting(), iter(frames), 300, s, seeds=seeds))
    segs = plan_segments(300, model.spec.segment_tokens, model.spec.context_tokens, model.spec.lookahead_tokens)
    assert [seg for seg, _ in out] == segs
    assert calls["encode"] == len(segs) and calls["velocity"] == [2 * len(seeds)] * (2 * len(segs))
    rows = np.concatenate([t for _, t in out], axis=1)
    assert rows.shape == (len(seeds), 300, model.spec.token_dim) and rows.dtype == np.float32

    def one_seed(seed: int) -> np.ndarray:
        return np.concatenate([t for _, t in generate_tokens(model, iter(frames), 300, SamplerSettings(seed, 2))])

    for v, seed in enumerate(seeds):
        np.testing.assert_allclose(rows[v], one_seed(seed), rtol=0, atol=1e-4)  # normalised log-mel, |x| ~ 10
    alone = [t for _, t in generate_token_rows(model, iter(frames), 300, SamplerSettings(seed=6, steps=2))]
    assert all(t.shape[0] == 1 for t in alone)  # seeds default to (settings.seed,)
    np.testing.assert_array_equal(np.concatenate(alone, axis=1)[0], one_seed(6))


def _window(seed: int, v_rows: int, w: int) -> tuple[np.ndarray, ...]:
    """A window's random cond [V, W, 2], empty ctx [V, W, 4] and mask [V, W, 1], and x [V, W, 4]."""
    rng = np.random.default_rng(seed)
    cond = rng.standard_normal((v_rows, w, 2)).astype(np.float32)
    x = rng.standard_normal((v_rows, w, 4)).astype(np.float32)
    return cond, np.zeros((v_rows, w, 4), np.float32), np.zeros((v_rows, w, 1), np.float32), x


@pytest.mark.parametrize("guidance", [1.0, 3.0])
def test_velocity_closure_stacks_rows_then_guidance(guidance):
    """x [V] -> one call of 2V rows (conditioned, then unconditioned), or V rows unguided."""
    seen = []

    class Linear:  # v = x + cond-ish term that the uncond flag switches off, row by row
        def velocity(self, x, t, cond, ctx, ctx_mask, uncond):
            seen.append((len(x), uncond.tolist()))
            return x * (1.0 - uncond[:, None, None]) + cond[..., :1] + t[:, None, None]

    v_rows = 3
    cond, ctx, mask, x = _window(0, v_rows, 5)
    batched = make_velocity(Linear(), cond, ctx, mask, guidance)(x, 0.25)
    per_row = np.concatenate([make_velocity(Linear(), cond[r : r + 1], ctx[r : r + 1], mask[r : r + 1], guidance)(
        x[r : r + 1], 0.25) for r in range(v_rows)])
    split = make_velocity(Linear(), cond, ctx, mask, guidance, rows_per_call=2)(x, 0.25)
    np.testing.assert_array_equal(batched, per_row)
    np.testing.assert_array_equal(batched, split)
    uncond = [0.0] * v_rows + [1.0] * v_rows if guidance != 1.0 else [0.0] * v_rows
    assert seen[0] == (len(uncond), uncond)
    want = x + cond[..., :1] + 0.25 if guidance == 1.0 else cond[..., :1] + 0.25 + guidance * x
    np.testing.assert_allclose(batched, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("guidance", [1.0, 3.0])
def test_a_prompt_reaches_the_conditioned_rows_only(guidance):
    """With a prompt [1, E] every call gets prompt [B, E] and prompt_on [B]: 1 where conditioned, 0 on the
    guidance batch's unconditioned half; without one (auto) the call is the one of a model without prompts."""
    seen = []

    class Recorder:
        def velocity(self, x, t, cond, ctx, ctx_mask, uncond, *prompt):
            seen.append((uncond.tolist(), [p.copy() for p in prompt]))
            return x

    v_rows, w = 2, 4
    zeros = np.zeros((v_rows, w, 3), np.float32)
    vec = np.arange(5, dtype=np.float32)[None]
    make_velocity(Recorder(), zeros, zeros, zeros[..., :1], guidance, prompt=vec)(zeros, 0.5)
    make_velocity(Recorder(), zeros, zeros, zeros[..., :1], guidance, rows_per_call=1, prompt=vec)(zeros, 0.5)
    make_velocity(Recorder(), zeros, zeros, zeros[..., :1], guidance)(zeros, 0.5)
    for uncond, (prompt, on) in (seen[0], *seen[1:3]):
        assert on.tolist() == [1.0 - u for u in uncond]
        np.testing.assert_array_equal(prompt, np.repeat(vec, len(uncond), axis=0))
    assert len(seen[0][0]) == (2 * v_rows if guidance != 1.0 else v_rows) and len(seen[1][0]) == len(seen[0][0]) // 2
    assert seen[-1][1] == []  # auto


@pytest.mark.parametrize("rows_per_call", [None, 1])
def test_a_prompt_guided_on_its_own_is_a_batch_of_three(rows_per_call):
    """prompt_guidance g_p != g: rows with the video and the prompt, the video alone, neither; the result is
    v_none + g (v_auto - v_none) + g_p (v_prompt - v_auto). With g_p == g it is the two-row form exactly."""
    seen = []

    class Parts:  # v = a + b * (video on) + c * (prompt on): each condition's share is known
        def velocity(self, x, t, cond, ctx, ctx_mask, uncond, prompt, prompt_on):
            seen.append((uncond.tolist(), prompt_on.tolist()))
            video, on = (1.0 - uncond)[:, None, None], prompt_on[:, None, None]
            return x + 2.0 * video * cond[..., :1] + 5.0 * on * prompt[:, None, :1]

    v_rows = 2
    cond, ctx, mask, x = _window(1, v_rows, 3)
    vec = np.full((1, 3), 0.5, np.float32)
    g, gp = 3.0, 7.0
    out = make_velocity(Parts(), cond, ctx, mask, g, rows_per_call, vec, prompt_guidance=gp)(x, 0.5)
    n = v_rows if rows_per_call is None else 1
    assert seen[0] == ([0.0] * n + [0.0] * n + [1.0] * n, [1.0] * n + [0.0] * n + [0.0] * n)
    np.testing.assert_allclose(out, x + g * 2.0 * cond[..., :1] + gp * 5.0 * 0.5, rtol=1e-6, atol=1e-6)
    seen.clear()
    same = make_velocity(Parts(), cond, ctx, mask, g, rows_per_call, vec, prompt_guidance=g)(x, 0.5)
    two = make_velocity(Parts(), cond, ctx, mask, g, rows_per_call, vec)(x, 0.5)
    np.testing.assert_array_equal(same, two)
    assert all(len(u) == 2 * n for u, _ in seen)  # g_p == g (or None): the two-row batch
    seen.clear()

    class NoPrompt(Parts):
        def velocity(self, x, t, cond, ctx, ctx_mask, uncond):
            return Parts.velocity(self, x, t, cond, ctx, ctx_mask, uncond, np.zeros((len(x), 1), np.float32),
                                  np.zeros(len(x), np.float32))

    auto = make_velocity(NoPrompt(), cond, ctx, mask, g, rows_per_call, None, prompt_guidance=gp)(x, 0.5)
    assert all(len(u) == 2 * n for u, _ in seen)  # auto: no prompt to guide, the two-row batch
    np.testing.assert_allclose(auto, x + g * 2.0 * cond[..., :1], rtol=1e-6, atol=1e-6)
