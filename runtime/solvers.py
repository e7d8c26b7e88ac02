"""ODE solvers for the rectified flow: pure functions over a velocity callable and a time grid.

The flow runs from noise at t=0 to data at t=1. ``velocity(x, t)`` returns dx/dt;
guidance, ONNX calls and conditioning live in the closure that builds it. ``x``
may carry a leading batch axis (the variations of one clip, runtime.stream): the
solvers treat it like any other, so each row is solved as if it were alone.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Velocity = Callable[[np.ndarray, float], np.ndarray]
Callback = Callable[[int, float, np.ndarray], None]


def uniform_grid(steps: int) -> np.ndarray:
    """steps + 1 times from 0 to 1, evenly spaced."""
    return np.linspace(0.0, 1.0, steps + 1)


def shifted_grid(steps: int, shift: float = 3.0) -> np.ndarray:
    """SD3-style shifted grid: more steps near t=0 (noise) for shift > 1."""
    u = np.linspace(0.0, 1.0, steps + 1)
    s = 1.0 - u  # sigma from 1 to 0
    s = shift * s / (1 + (shift - 1) * s)
    return 1.0 - s


def sample_euler(velocity: Velocity, x: np.ndarray, t_grid: np.ndarray, callback: Callback | None = None) -> np.ndarray:
    for i in range(len(t_grid) - 1):
        t, dt = float(t_grid[i]), float(t_grid[i + 1] - t_grid[i])
        x = x + dt * velocity(x, t)
        if callback is not None:
            callback(i, float(t_grid[i + 1]), x)
    return x


def sample_heun(velocity: Velocity, x: np.ndarray, t_grid: np.ndarray, callback: Callback | None = None) -> np.ndarray:
    """Heun's second-order method (two velocity calls per step, Euler on the last)."""
    n = len(t_grid) - 1
    for i in range(n):
        t0, t1 = float(t_grid[i]), float(t_grid[i + 1])
        v0 = velocity(x, t0)
        x_e = x + (t1 - t0) * v0
        x = x_e if i == n - 1 else x + (t1 - t0) * 0.5 * (v0 + velocity(x_e, t1))
        if callback is not None:
            callback(i, t1, x)
    return x


def sample_midpoint(velocity: Velocity, x: np.ndarray, t_grid: np.ndarray,
                    callback: Callback | None = None) -> np.ndarray:
    for i in range(len(t_grid) - 1):
        t0, t1 = float(t_grid[i]), float(t_grid[i + 1])
        h = t1 - t0
        x = x + h * velocity(x + 0.5 * h * velocity(x, t0), t0 + 0.5 * h)
        if callback is not None:
            callback(i, t1, x)
    return x


SOLVERS: dict[str, Callable[..., np.ndarray]] = {"euler": sample_euler, "heun": sample_heun, "midpoint": sample_midpoint}
GRIDS: dict[str, Callable[[int], np.ndarray]] = {"uniform": uniform_grid, "shifted": shifted_grid}
