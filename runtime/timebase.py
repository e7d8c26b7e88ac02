"""How many frames cover a duration: the one conversion from seconds (or samples) to a frame count.

Every side asks it (the runtime for the model-rate frames a take consumes, the world for the frames of
a clip, the demo and the benchmarks for their media), so it lives in the leaf package::

    seconds s, rate fps  --frames_covering-->  ceil(s * fps)   frames 0 .. n-1 span [0, n / fps) >= s
    samples n at 48 kHz  --frames_for_samples-->  frames_covering(n / 48000, fps)

Exact for ``Fraction`` and ``int`` seconds; a ``float`` (the world's durations) is read with a
1e-9-frame tolerance, so float noise (``1001 / 24000 * 10`` is 10.000000000000002 frames at
24000/1001) never adds a frame.
"""

from __future__ import annotations

import math
import operator
from fractions import Fraction

from .audio import OUTPUT_RATE

_FLOAT_SLACK = Fraction(1, 10**9)  # frames: what a float duration may overshoot a whole count by


def frames_covering(seconds: Fraction | int | float, fps: Fraction | int) -> int:
    """The fewest frames at ``fps`` whose span ``n / fps`` covers ``seconds``: ceil(seconds * fps).

    ``frames_covering(Fraction(4), Fraction(24000, 1001)) == 96`` (95.9 frames); 0 seconds is 0 frames.
    """
    if isinstance(fps, float) or not isinstance(fps, (Fraction, int)):
        raise TypeError(f"fps must be a Fraction (e.g. Fraction(30000, 1001)) or an int, got {fps!r}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if isinstance(seconds, float):
        if not math.isfinite(seconds):
            raise ValueError(f"not a duration: {seconds!r}")
        exact = Fraction(seconds) * fps - _FLOAT_SLACK
    elif isinstance(seconds, (Fraction, int)):
        exact = Fraction(seconds) * fps
    else:
        raise TypeError(f"seconds must be a Fraction, an int or a float, got {seconds!r}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {seconds} s")
    return max(0, math.ceil(exact))


def frames_for_samples(n_samples: int, fps: Fraction | int, sample_rate: int = OUTPUT_RATE) -> int:
    """Frames at ``fps`` that cover ``n_samples`` samples at ``sample_rate``: ceil(n_samples * fps / rate).

    The model-rate frames a take of ``n_samples`` (at 48 kHz) consumes when ``fps`` is the model's
    video rate (its token rate).
    """
    n, rate = operator.index(n_samples), operator.index(sample_rate)  # numpy integers too; 2.5 is a TypeError
    if n < 0:
        raise ValueError(f"n_samples cannot be negative, got {n}")
    if rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {rate}")
    return frames_covering(Fraction(n, rate), fps)
