"""require_parameters and require_increasing_positive (aelib.pipeline.parameters)."""

import pytest

from aelib.pipeline.parameters import require_increasing_positive, require_parameters


def test_require_parameters_names_the_bad_one():
    good = {"n": 3, "rate": 0.5, "rho": 0.1}
    require_parameters(good, positive_ints=("n",), positives=("rate",), fractions=("rho",), above_zero=("rho",))
    with pytest.raises(ValueError, match="parameter n must be a positive integer"):
        require_parameters(good | {"n": 0}, positive_ints=("n",))
    with pytest.raises(ValueError, match="parameter rate must be a positive number"):
        require_parameters(good | {"rate": -1}, positives=("rate",))
    with pytest.raises(ValueError, match="parameter rho must hold fractions"):
        require_parameters(good | {"rho": 1.0}, fractions=("rho",))
    with pytest.raises(ValueError, match="parameter rho must be above 0"):
        require_parameters(good | {"rho": 0}, fractions=("rho",), above_zero=("rho",))


@pytest.mark.parametrize("values", [[], [0.1, 0.01], [0, 1], "0.1", [True]])
def test_require_increasing_positive_rejects(values):
    with pytest.raises(ValueError, match="increasing order"):
        require_increasing_positive("w", values)


def test_require_increasing_positive_accepts():
    require_increasing_positive("w", [0.003, 0.01])


def test_require_increasing_positive_integers_strictly():
    from aelib.pipeline.parameters import require_multiple_of
    require_increasing_positive("sizes", [2, 3, 5], integers=True, strictly=True)
    for bad in ([2, 2, 3], [2.0, 3], [3, 2]):
        with pytest.raises(ValueError, match="parameter sizes must be positive integers in strictly increasing"):
            require_increasing_positive("sizes", bad, integers=True, strictly=True)
    require_multiple_of("samples", 300, "batch_size", 100)
    with pytest.raises(ValueError, match=r"parameter samples must be a multiple of batch_size \(100\), got 250"):
        require_multiple_of("samples", 250, "batch_size", 100)
