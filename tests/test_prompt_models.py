"""export.models.prompt and the flow's prompt input: front end, encoder, table, no-prompt state."""

import numpy as np
import pytest
import torch

from foleyflow.export.models.encoders import AudioEncoder
from foleyflow.export.models.flow import VelocityNet
from foleyflow.export.models.mel import LogMel
from foleyflow.export.models.prompt import CategoryTable, ConvLogMel, PromptEncoder


@pytest.mark.parametrize("rate, n_fft, hop, n_mels, fmax", [(16000, 640, 160, 64, 8000.0),
                                                            (48000, 1920, 480, 128, 24000.0)])
def test_the_conv_front_end_is_the_training_log_mel(rate, n_fft, hop, n_mels, fmax):
    torch.manual_seed(0)
    x = torch.randn(2, 2 * rate) * torch.linspace(0, 1, 2 * rate) ** 3
    x[:, : rate // 3] = 0  # silence too (the log's floor)
    want = LogMel(rate, n_fft, hop, n_mels, 0.0, fmax)(x)
    got = ConvLogMel(rate, n_fft, hop, n_mels, 0.0, fmax)(x)
    assert got.shape == want.shape == (2, 2 * rate // hop, n_mels)
    torch.testing.assert_close(got, want, atol=1e-4, rtol=0)


def _encoder(train_encoder: bool = False) -> PromptEncoder:
    torch.manual_seed(0)
    return PromptEncoder(ConvLogMel(16000, 640, 160, 64, 0.0, 8000.0), AudioEncoder(256, 32, 1, 2), (-8.0, 2.0), 4,
                         12, train_encoder=train_encoder)


def test_the_prompt_encoder_pools_a_reference_into_one_vector():
    enc = _encoder()
    wave = torch.randn(3, 16000) * 0.1
    out = enc(wave)
    assert out.shape == (3, 12)
    torch.testing.assert_close(enc(wave[1:2]), out[1:2], atol=1e-5, rtol=0)  # rows are independent
    assert not torch.allclose(out[0], out[1])


@pytest.mark.parametrize("train_encoder", [False, True])
def test_the_audio_encoder_is_frozen_unless_asked(train_encoder):
    enc = _encoder(train_encoder)
    enc(torch.randn(2, 16000)).sum().backward()
    assert enc.proj.weight.grad is not None and enc.att.weight.grad is not None
    got = [p.grad is not None for name, p in enc.encoder.named_parameters() if name != "mask_token"]  # unmasked
    assert all(got) if train_encoder else not any(got)


def test_the_category_table_is_one_row_per_category():
    t = CategoryTable(5, 7)
    out = t(torch.tensor([4, 0, 4]))
    assert out.shape == (3, 7)
    torch.testing.assert_close(out[0], out[2])


def _feeds(b=2, n=10, p=8, d=6, e=4):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(b, n, p, generator=g), torch.rand(b, generator=g), torch.randn(b, n, d, generator=g),
            torch.zeros(b, n, p), torch.zeros(b, n, 1)), torch.randn(b, e, generator=g)


def _net(prompt_dim=4):
    torch.manual_seed(0)
    net = VelocityNet(8, 6, 16, 1, 2, prompt_dim=prompt_dim)
    for m in (net.final_mod[1], net.out, *(blk.mod[1] for blk in net.blocks)):  # zero-initialised: wake them
        torch.nn.init.normal_(m.weight, std=0.2)
    return net.eval()


def test_the_flow_hears_the_prompt_only_when_it_is_on_and_the_row_is_conditioned():
    net = _net()
    (x, t, cond, ctx, mask), prompt = _feeds()
    zero, one = torch.zeros(2), torch.ones(2)
    with torch.no_grad():
        auto = net(x, t, cond, ctx, mask, zero)
        off = net(x, t, cond, ctx, mask, zero, prompt, zero)
        on = net(x, t, cond, ctx, mask, zero, prompt, one)
        other = net(x, t, cond, ctx, mask, zero, -prompt, one)
        uncond = net(x, t, cond, ctx, mask, one, prompt, one)
        uncond_auto = net(x, t, cond, ctx, mask, one, prompt, zero)
    torch.testing.assert_close(auto, off)  # None is the learned "no prompt" state
    assert (on - auto).abs().max() > 1e-3 and (on - other).abs().max() > 1e-3
    torch.testing.assert_close(uncond, uncond_auto)  # uncond drops the prompt with the video


def test_a_flow_without_prompts_has_no_prompt_weights_and_ignores_none():
    net = _net(0)
    assert not any(k.startswith("prompt") for k in net.state_dict())
    (x, t, cond, ctx, mask), _ = _feeds()
    with torch.no_grad():
        np.testing.assert_array_equal(net(x, t, cond, ctx, mask, torch.zeros(2)).numpy(),
                                      net(x, t, cond, ctx, mask, torch.zeros(2), None, None).numpy())
