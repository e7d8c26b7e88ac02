"""export.augment: training video seen through another camera and palette."""

import numpy as np
import torch

from foleyflow.export.augment import augment_share, camera_and_colour, surface_texture


def _scene(t: int = 20, s: int = 32) -> torch.Tensor:
    """A still background with a bright square falling down the frame: [1, T, 3, S, S]."""
    x = torch.zeros(1, t, 3, s, s)
    x[..., : s // 2, :] = torch.tensor([0.2, 0.4, 0.6])[:, None, None]
    for i in range(t):
        y = 2 + i
        x[0, i, :, y : y + 4, 14:18] = 1.0
    return x


def test_the_camera_moves_the_whole_picture_and_keeps_the_values_in_range():
    x = _scene()
    still = x.clone()
    still[:] = x[:, :1]  # nothing moves
    y = camera_and_colour(still, np.random.default_rng(3), shift=3.0)
    assert y.shape == still.shape and float(y.min()) >= 0.0 and float(y.max()) <= 1.0
    assert float((y[:, 1:] - y[:, :-1]).abs().sum()) > 0.0  # a still scene gains motion: the camera's
    assert not torch.allclose(y[:, 0], still[:, 0])  # and another palette / framing


def test_it_is_seeded_by_the_callers_generator():
    x = _scene()
    a = camera_and_colour(x, np.random.default_rng(7))
    b = camera_and_colour(x, np.random.default_rng(7))
    c = camera_and_colour(x, np.random.default_rng(8))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)


def test_the_object_still_moves_against_the_scene():
    """The square keeps falling through the augmented clip: its brightest row goes down frame by frame
    (the camera moves every pixel together; the object's own motion stays)."""
    x = _scene(t=20)
    y = camera_and_colour(x, np.random.default_rng(0), shift=1.0, zoom=0.0, colour=0.0)
    rows = [int(y[0, i].mean(0)[:, 12:20].sum(1).argmax()) for i in range(20)]
    assert rows[-1] - rows[0] >= 14


def test_a_share_of_zero_leaves_the_batch_alone_and_a_share_of_one_changes_every_clip():
    x = torch.cat([_scene(), _scene()])
    assert augment_share(x, np.random.default_rng(0), 0.0) is x
    y = augment_share(x, np.random.default_rng(0), 1.0)
    assert all(not torch.allclose(y[i], x[i]) for i in range(2))
    torch.testing.assert_close(x, torch.cat([_scene(), _scene()]))  # the input is not changed in place


def test_a_surface_texture_is_a_static_field_around_one_scaled_per_clip():
    f = surface_texture(3, 32, np.random.default_rng(0), np.array([0.0, 0.2, 0.6]))
    assert f.shape == (3, 1, 1, 32, 32)
    assert torch.equal(f[0], torch.ones_like(f[0]))  # strength 0: flat
    assert 0 < float(f[1].std()) < float(f[2].std()) and abs(float(f[2].mean()) - 1.0) < 0.2


def test_a_textured_flat_wall_under_a_moving_camera_moves_and_without_a_texture_it_does_not():
    flat = torch.full((8, 12, 3, 32, 32), 0.5)  # eight clips of a flat grey wall, nothing moves
    plain = camera_and_colour(flat, np.random.default_rng(5), shift=3.0)
    textured = camera_and_colour(flat, np.random.default_rng(5), shift=3.0, texture=0.5)
    motion = lambda y: (y[:, 1:] - y[:, :-1]).abs().mean(dim=(1, 2, 3, 4))  # noqa: E731  per clip
    assert float(motion(plain).max()) < 1e-4  # a flat wall looks the same wherever the camera points
    assert int((motion(textured) > 1e-3).sum()) >= 2  # the textured half slides with the camera
    again = camera_and_colour(flat, np.random.default_rng(5), shift=3.0)
    assert torch.equal(again, plain)  # without a texture the generator is drawn as before
