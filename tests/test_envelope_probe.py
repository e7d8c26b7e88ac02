"""scripts/envelope_probe.py: the guided sampler that voices a given loudness envelope."""

import importlib.util
from pathlib import Path

import torch

from foleyflow.export.models.flow import VelocityNet

_PATH = Path(__file__).resolve().parents[1] / "scripts" / "envelope_probe.py"


def _probe():
    spec = importlib.util.spec_from_file_location("envelope_probe", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _net() -> VelocityNet:
    torch.manual_seed(0)
    net = VelocityNet(8, 6, 16, 1, 2, envelope=True, frames_per_token=2)
    for m in (net.final_mod[1], net.out, *(blk.mod[1] for blk in net.blocks)):  # zero-initialised: wake them
        torch.nn.init.normal_(m.weight, std=0.2)
    return net.eval()


def test_the_sample_depends_on_the_envelope_it_is_given_and_on_its_seed_only():
    probe, net = _probe(), _net()
    cond = torch.randn(1, 10, 6, generator=torch.Generator().manual_seed(2))
    quiet, loud = torch.zeros(1, 10, 2), torch.full((1, 10, 2), 3.0)
    with torch.no_grad():
        a = probe.sample(net, cond, quiet, 8, steps=4, guidance=2.0)
        b = probe.sample(net, cond, quiet, 8, steps=4, guidance=2.0)
        c = probe.sample(net, cond, loud, 8, steps=4, guidance=2.0)
        d = probe.sample(net, cond, quiet, 8, steps=4, guidance=2.0, seed=1)
    assert a.shape == (1, 10, 8)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c) and not torch.allclose(a, d)
