"""Domain randomisation of training video: another camera and another palette than the renderer's.

What the video encoder should learn is motion and contact, not how the world is drawn. A share of each
batch (``DataConfig.augment``) is seen through :func:`camera_and_colour`: per clip a colour remap
(per-channel gain, partial greyscale, contrast, sometimes inverted) and a zoom (sometimes a slow zoom
in or out); per frame a camera path (a pan drifting across the clip and, for half the clips, a handheld
shake: a smoothed random walk). Every frame of a clip moves together, so a contact is still a change
in the object's motion *relative to the scene*, while the whole picture moving (a pan, a shake) is
something that makes no sound. With ``texture`` > 0, half the clips also get a surface texture (a
static multiplicative field of low-frequency blotches and fine grain, :func:`surface_texture`) before
the camera moves, so under a pan or a shake it slides with the scene as a textured wall or floor does:
frame differences everywhere, none of them a contact. Pure torch on [B, T, 3, S, S] in [0, 1]; seeded
by the caller's generator (without a texture it draws what it drew before the option existed).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def surface_texture(b: int, s: int, rng: np.random.Generator, strength: np.ndarray) -> torch.Tensor:
    """[B, 1, 1, S, S] multiplicative fields around 1: blotches (a random 3x3 to 8x8 grid, upsampled
    bilinearly) and half as much per-pixel grain, scaled per clip by ``strength`` [B] (0: flat)."""
    fields = []
    for i in range(b):
        k = int(rng.integers(3, 9))
        coarse = torch.from_numpy(rng.uniform(-1, 1, (1, 1, k, k))).float()
        blotch = F.interpolate(coarse, size=(s, s), mode="bilinear", align_corners=False)[0, 0]
        grain = torch.from_numpy(rng.uniform(-1, 1, (s, s))).float()
        fields.append(1.0 + float(strength[i]) * (blotch + 0.5 * grain) / 1.5)
    return torch.stack(fields)[:, None, None]


def camera_and_colour(x: torch.Tensor, rng: np.random.Generator, shift: float = 3.0, zoom: float = 0.25,
                      colour: float = 0.4, texture: float = 0.0) -> torch.Tensor:
    """``x`` [B, T, 3, S, S] in [0, 1] seen through another camera and palette (module docstring):
    ``shift`` pixels of pan and shake at most, ``zoom`` the largest zoom in (share of the frame), ``colour``
    the largest per-channel gain change, ``texture`` the largest surface texture's strength (0: none)."""
    b, t, c, s, _ = x.shape
    gain = torch.from_numpy(rng.uniform(1 - colour, 1 + colour, (b, 1, 3, 1, 1))).float()
    grey_share = torch.from_numpy(rng.uniform(0, 0.6, (b, 1, 1, 1, 1))).float()
    x = (x * (1 - grey_share) + x.mean(2, keepdim=True) * grey_share) * gain
    contrast = torch.from_numpy(rng.uniform(0.6, 1.4, (b, 1, 1, 1, 1))).float()
    mean = x.mean((2, 3, 4), keepdim=True)
    x = (x - mean) * contrast + mean
    inverted = torch.from_numpy(rng.random((b, 1, 1, 1, 1)) < 0.15).float()
    x = x * (1 - inverted) + (1 - x) * inverted
    if texture > 0:  # half the clips: a static surface texture, which the camera then moves with the scene
        strength = np.where(rng.random(b) < 0.5, rng.uniform(0.1, texture, b), 0.0)
        x = x * surface_texture(b, s, rng, strength)
    # the camera: zoom per clip (a third of them zooming slowly), a pan across the clip, a shake per frame
    z0 = rng.uniform(1.0, 1.0 + zoom, b)
    z1 = z0 * np.where(rng.random(b) < 0.3, rng.uniform(0.85, 1.15, b), 1.0)
    zooms = z0[:, None] + np.linspace(0.0, 1.0, t)[None] * (z1 - z0)[:, None]  # [B, T]
    pan = rng.uniform(-1, 1, (b, 2)) * rng.uniform(0, 2 * shift, (b, 1)) * 2 / s  # normalised coordinates
    shake = np.where(rng.random(b) < 0.5, rng.uniform(0, shift, b), 0.0) * 2 / s
    walk = np.cumsum(rng.standard_normal((b, t, 2)), axis=1)
    walk -= walk.mean(axis=1, keepdims=True)
    walk /= np.maximum(np.abs(walk).max(axis=(1, 2), keepdims=True), 1e-6)
    offset = np.linspace(-0.5, 0.5, t)[None, :, None] * pan[:, None] + walk * shake[:, None, None]  # [B, T, 2]
    theta = np.zeros((b, t, 2, 3), np.float32)
    theta[..., 0, 0] = theta[..., 1, 1] = 1.0 / zooms
    theta[..., 0, 2], theta[..., 1, 2] = offset[..., 0], offset[..., 1]
    grid = F.affine_grid(torch.from_numpy(theta).reshape(b * t, 2, 3), [b * t, c, s, s], align_corners=False)
    x = F.grid_sample(x.reshape(b * t, c, s, s), grid, padding_mode="border", align_corners=False)
    return x.reshape(b, t, c, s, s).clamp(0.0, 1.0)


def augment_share(x: torch.Tensor, rng: np.random.Generator, share: float, texture: float = 0.0) -> torch.Tensor:
    """``x`` with each clip, with probability ``share``, through :func:`camera_and_colour` (0: unchanged;
    ``texture`` its surface textures' largest strength)."""
    if share <= 0.0:
        return x
    chosen = torch.from_numpy(rng.random(x.shape[0]) < share)
    if bool(chosen.any()):
        x = x.clone()
        x[chosen] = camera_and_colour(x[chosen], rng, texture=texture)
    return x
