import os

import pytest
import torch

from aelib.training.processes import run_side_by_side


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


def test_the_total_threads_are_shared_between_the_processes_side_by_side():
    assert run_side_by_side(torch.get_num_threads, [{}, {}], total_threads=4) == [2, 2]
    assert run_side_by_side(torch.get_num_threads, [{}] * 3, total_threads=4, at_once=2) == [2, 2, 2]
    assert run_side_by_side(torch.get_num_threads, [{}, {}], total_threads=1) == [1, 1]  # at least one each
    assert run_side_by_side(torch.get_num_threads, [], total_threads=2) == []


def test_total_threads_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="total_threads must be a positive integer"):
        run_side_by_side(int, [{}], total_threads=0)
