import os

import pytest

from aelib.processes import run_side_by_side


def test_at_most_at_once_processes_and_the_results_in_the_order_of_the_calls():
    assert run_side_by_side(dict, [{"a": 1}, {"b": 2}, {"c": 3}], at_once=2) == [{"a": 1}, {"b": 2}, {"c": 3}]


def test_one_at_a_time_runs_here():
    assert run_side_by_side(os.getpid, [{}, {}], at_once=1) == [os.getpid()] * 2


def test_an_error_in_a_waiting_queue_is_raised_here():
    with pytest.raises(TypeError):  # int(base=3) has no string to read
        run_side_by_side(int, [{}, {"base": 3}, {}], at_once=2)


def test_at_once_must_be_positive():
    with pytest.raises(ValueError, match="at_once must be at least 1"):
        run_side_by_side(int, [{}], at_once=0)
