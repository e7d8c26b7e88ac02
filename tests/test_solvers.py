import numpy as np
import pytest

from foleyflow.runtime.solvers import GRIDS, SOLVERS, sample_euler, sample_heun, shifted_grid, uniform_grid


def test_grids_run_from_zero_to_one_monotonically():
    for make in GRIDS.values():
        g = make(10)
        assert len(g) == 11 and g[0] == 0.0 and g[-1] == pytest.approx(1.0)
        assert np.all(np.diff(g) > 0)
    assert np.allclose(uniform_grid(4), [0, 0.25, 0.5, 0.75, 1.0])
    assert shifted_grid(8, 3.0)[1] < uniform_grid(8)[1]  # finer steps near the noise end


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_straight_flow_is_solved_exactly(name):
    # rectified flow with a constant velocity: x1 = x0 + v for any solver and grid
    v = np.array([1.5, -2.0])
    x = SOLVERS[name](lambda x, t: v, np.zeros(2), uniform_grid(3))
    assert np.allclose(x, v)


def test_second_order_beats_euler_on_a_curved_field():
    # dx/dt = x  ->  x(1) = e * x(0)
    f = lambda x, t: x  # noqa: E731
    grid = uniform_grid(8)
    err_e = abs(sample_euler(f, np.ones(1), grid)[0] - np.e)
    err_m = abs(SOLVERS["midpoint"](f, np.ones(1), grid)[0] - np.e)
    assert err_m < err_e / 5


def test_heun_last_step_is_euler_and_callback_sees_every_step():
    seen = []
    sample_heun(lambda x, t: np.ones_like(x), np.zeros(1), uniform_grid(5), callback=lambda i, t, x: seen.append(i))
    assert seen == [0, 1, 2, 3, 4]


def test_solvers_are_pure():
    x0 = np.ones(3)
    sample_euler(lambda x, t: x, x0, uniform_grid(4))
    assert np.array_equal(x0, np.ones(3))


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_a_batch_of_rows_is_solved_row_by_row(name):
    # the sampler stacks variations on the leading axis: row r of a batch solve is the solve of row r alone
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((3, 5, 2))
    scale = rng.standard_normal((3, 1, 1))
    calls = []

    def f(x, t, scale=scale):
        calls.append(len(x))
        return np.sin(x) * scale[: len(x)] + t

    grid = shifted_grid(4)
    batch = SOLVERS[name](f, x0, grid)
    n_batch = len(calls)
    for r in range(3):
        alone = SOLVERS[name](lambda x, t, r=r: np.sin(x) * scale[r] + t, x0[r : r + 1], grid)
        np.testing.assert_allclose(batch[r : r + 1], alone, rtol=1e-12, atol=1e-12)
    assert calls[:n_batch] == [3] * n_batch  # one call per velocity evaluation for all rows
