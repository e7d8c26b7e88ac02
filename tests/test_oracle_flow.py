"""scripts/oracle_flow.py: the ground-truth material tracks a diagnostic flow is conditioned on."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from foleyflow.world.events import MATERIALS

_PATH = Path(__file__).resolve().parents[1] / "scripts" / "oracle_flow.py"


@pytest.fixture(scope="module")
def oracle():
    spec = importlib.util.spec_from_file_location("oracle_flow", _PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["oracle_flow"] = mod  # its dataclass looks its module up there
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        del sys.modules["oracle_flow"]


def test_each_impact_marks_its_material_from_its_contact_token_for_the_hold(oracle):
    events = [{"kind": "impact", "time": 0.5, "material": "glass"},
              {"kind": "impact", "time": 1.0, "material": "wood"},
              {"kind": "scrape", "time": 0.2, "material": "metal"}]  # not an impact: no track
    tracks = oracle.oracle_tracks(events, 100, 25.0)
    assert tracks.shape == (100, len(MATERIALS))
    glass = np.nonzero(tracks[:, MATERIALS.index("glass")])[0]
    wood = np.nonzero(tracks[:, MATERIALS.index("wood")])[0]
    assert glass[0] == 12 and len(glass) == oracle.HOLD and np.all(np.diff(glass) == 1)
    assert wood[0] == 25 and len(wood) == oracle.HOLD
    assert tracks[:, MATERIALS.index("metal")].sum() == 0
    assert tracks[:12].sum() == 0  # nothing before the first contact
    assert tracks[25:37].sum(axis=1).max() == 2  # two objects ringing at once: both marked


def test_a_track_is_cut_at_the_clip_end_and_events_outside_the_clip_are_ignored(oracle):
    tracks = oracle.oracle_tracks([{"kind": "impact", "time": 3.9, "material": "metal"},
                                   {"kind": "impact", "time": 4.5, "material": "rubber"},
                                   {"kind": "impact", "time": -0.1, "material": "ceramic"}], 100, 25.0)
    assert np.nonzero(tracks[:, MATERIALS.index("metal")])[0].tolist() == [97, 98, 99]
    assert tracks[:, MATERIALS.index("rubber")].sum() == tracks[:, MATERIALS.index("ceramic")].sum() == 0


def test_inject_replaces_only_the_last_dimensions_with_the_scaled_tracks(oracle):
    rng = np.random.default_rng(0)
    feats = rng.standard_normal((100, 16)).astype(np.float32)
    tracks = oracle.oracle_tracks([{"kind": "impact", "time": 1.0, "material": "ceramic"}], 100, 25.0)
    before = feats.copy()
    out = oracle.inject(feats, tracks)
    d = oracle.ORACLE_DIMS
    np.testing.assert_array_equal(out[:, :-d], feats[:, :-d])
    np.testing.assert_array_equal(out[:, -d:], oracle.SCALE * tracks)
    np.testing.assert_array_equal(feats, before)  # the input is left as it was
