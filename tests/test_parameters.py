import pytest

from aelib.pipeline.parameters import require_sweep


@pytest.mark.parametrize("values", [[0.0, 0.1], [0, 0.5, 2]])
def test_a_sweep_from_zero_is_accepted(values):
    require_sweep("alphas", values)


@pytest.mark.parametrize("values", [[0.1, 0.3],            # no unregularized model first
                                    [0.0],                 # nothing to sweep
                                    [0.0, 0.3, 0.3],       # not increasing
                                    [0.0, -0.1],           # negative
                                    [0.0, True],           # not a number
                                    "0.0, 0.1",            # not a list
                                    ])
def test_a_bad_sweep_is_refused_with_its_name_and_value(values):
    with pytest.raises(ValueError, match=r"parameter alphas must be at least 2 increasing non-negative numbers, "
                                         r"starting at 0.0, got"):
        require_sweep("alphas", values)


def test_a_sweep_may_start_anywhere_when_asked():
    require_sweep("noise", [0.25, 0.4], start=None)
    with pytest.raises(ValueError, match="parameter noise must be at least 2 increasing"):
        require_sweep("noise", [0.4, 0.25], start=None)
