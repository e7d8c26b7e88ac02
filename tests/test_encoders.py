"""The encoders' masking and pretraining targets (export/models/encoders.py)."""

import pytest
import torch

from foleyflow.export.models.encoders import AudioMAEHead, VideoEncoder, VideoMAEHead, span_mask


def test_span_mask_hides_about_the_ratio_in_whole_spans():
    g = torch.Generator().manual_seed(0)
    m = span_mask(400, 100, 0.8, 4, generator=g)
    assert m.shape == (400, 100) and m.dtype == torch.bool
    assert abs(m.float().mean().item() - 0.8) < 0.02
    spans = m.reshape(400, 25, 4)
    assert bool((spans.all(-1) | (~spans).all(-1)).all())  # every span of 4 is all hidden or all visible


def test_hide_all_hides_whole_clips_at_its_rate():
    g = torch.Generator().manual_seed(1)
    m = span_mask(2000, 100, 0.5, 4, generator=g, hide_all=0.25)
    full = m.all(dim=1).float().mean().item()
    # rows hidden entirely: 25 % by hide_all, plus the rare rows whose 25 spans all fall hidden at 0.5
    assert 0.22 < full < 0.28
    g = torch.Generator().manual_seed(1)
    assert span_mask(2000, 100, 0.5, 4, generator=g).all(dim=1).float().mean().item() < 0.01


def test_video_mae_target_keeps_colour():
    # two clips with the same grey level everywhere but a different hue: the target must tell them apart
    red = torch.zeros(1, 3, 3, 32, 32)
    red[:, :, 0] = 0.6
    green = torch.zeros(1, 3, 3, 32, 32)
    green[:, :, 1] = 0.6
    a, b = VideoMAEHead.target(red), VideoMAEHead.target(green)
    assert a.shape == (1, 3, 1024)
    assert torch.allclose(a[..., 768:], b[..., 768:])  # the same grey motion (none)
    assert (a[..., :768] - b[..., :768]).abs().max() > 0.5


def test_video_mae_target_sees_motion():
    frames = torch.zeros(1, 2, 3, 32, 32)
    frames[:, 1, :, :8, :8] = 1.0  # a patch lights up in the second frame
    diff = VideoMAEHead.target(frames)[0, :, 768:]
    assert diff[0].abs().max() == 0 and diff[1].max() > 1.0


def test_mae_losses_count_only_hidden_tokens():
    torch.manual_seed(0)
    head = AudioMAEHead(16, 8)
    feats, tokens = torch.randn(2, 10, 16), torch.randn(2, 10, 8)
    mask = torch.zeros(2, 10, dtype=torch.bool)
    mask[:, :3] = True
    before = head.loss(feats, tokens, mask)
    tokens2 = tokens.clone()
    tokens2[:, 3:] += 100.0  # visible tokens change: the loss must not
    assert torch.allclose(head.loss(feats, tokens2, mask), before)


def test_video_encoder_replaces_hidden_frames_with_the_mask_token():
    torch.manual_seed(0)
    enc = VideoEncoder(32, 32, 1, 4).eval()
    x = torch.rand(1, 12, 3, 32, 32)
    out = enc(x)
    assert out.shape == (1, 12, 32)
    mask = torch.zeros(1, 12, dtype=torch.bool)
    mask[0, 5] = True
    assert not torch.allclose(enc(x, mask)[0, 5], out[0, 5])  # a hidden frame is replaced by the mask token


def _object_at(x0: int, y0: int) -> torch.Tensor:
    """Two frames of a 4x4 reddish square on grey, appearing at (x0, y0) in the second frame."""
    frames = torch.full((1, 2, 3, 32, 32), 0.5)
    frames[0, 1, :, y0:y0 + 4, x0:x0 + 4] = torch.tensor([0.9, 0.3, 0.2])[:, None, None]
    return frames


def _pooled_branch(enc: VideoEncoder, frames: torch.Tensor) -> torch.Tensor:
    """What the attention pool adds to the features: attention (pooled) minus the flat path alone."""
    flat = VideoEncoder(32, 32, 1, 4)
    flat.load_state_dict({k: v for k, v in enc.state_dict().items() if not k.startswith(("att.", "pooled."))})
    return enc.stem_features(frames) - flat.eval().stem_features(frames)


def test_attention_pool_reads_a_small_object_the_same_wherever_it_is():
    torch.manual_seed(0)
    enc = VideoEncoder(32, 32, 1, 4, pool="attention").eval()
    a, b = _object_at(8, 8), _object_at(20, 12)  # moved by whole cells of the S/4 map, away from the border
    with torch.no_grad():
        pa, pb = _pooled_branch(enc, a)[0, 1], _pooled_branch(enc, b)[0, 1]
        assert torch.allclose(pa, pb, atol=1e-5)  # the position-free branch: the same look, the same value
        fa, fb = enc.stem_features(a)[0, 1], enc.stem_features(b)[0, 1]
        assert (fa - fb).abs().max() > 1e-3  # the flat path still says where it is
        grey = _pooled_branch(enc, torch.full((1, 2, 3, 32, 32), 0.5))[0, 1]
        assert (pa - grey).abs().max() > 1e-3  # and the pooled branch does see the object


def test_unknown_video_pool_is_refused():
    with pytest.raises(ValueError, match="unknown video pool 'mean'"):
        VideoEncoder(32, 32, 1, 4, pool="mean")
