"""Calls of one function side by side, each in a process of its own.

On a CPU, a training step of small layers (minibatches of 100) keeps two threads of one process
only partly busy: every operation waits for both at its end. Two processes of one thread each,
each training its own models, do not wait for each other: on this project's 2-core machine they
train study 05's latent sizes about 15% faster than one process with two threads
(`benchmarks/vae_scale.py`).
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable
from multiprocessing import get_context
from multiprocessing.connection import wait

import torch


def _worker(connection, threads: int, parent: int) -> None:
    """One process: its thread count, death with the process that started it (on Linux, so that a killed
    run leaves no worker behind still writing its checkpoints), then the call; the result goes back by
    value (pickled), whether a value or an error."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
    torch.set_num_threads(threads)
    function, call = pickle.loads(connection.recv_bytes())
    try:
        outcome = (True, function(**call), "")
    except BaseException as error:  # noqa: B036 - sent back and raised there
        outcome = (False, error, traceback.format_exc())
    try:
        message = pickle.dumps(outcome)
    except Exception:  # an error that cannot be pickled: its text
        message = pickle.dumps((False, RuntimeError(outcome[2] or repr(outcome[1])), outcome[2]))
    connection.send_bytes(message)


def threads_per_process(total_threads: int, processes: int) -> int:
    """Each of `processes` processes side by side gets an equal share of `total_threads`, at least one."""
    if isinstance(total_threads, bool) or not isinstance(total_threads, int) or total_threads < 1:
        raise ValueError(f"total_threads must be a positive integer, got {total_threads!r}")
    return max(1, total_threads // processes)


def run_side_by_side(function: Callable, calls: list[dict], total_threads: int = 1, at_once: int | None = None) -> list:
    """function(**call) for every call, each in a process of its own (started with `spawn`, so
    `function` must be importable, e.g. a function of aelib, and the arguments picklable); their
    results in the order of `calls`. At most `at_once` processes run together (default: all calls),
    the next starting as soon as one ends. `total_threads` is the machine's share for all of them
    together: each process gets `threads_per_process(total_threads, ...)` torch threads, so that the
    processes side by side never ask for more threads than there are. The arguments and the
    results travel by value. A single call, or `at_once=1`, runs here, in this process, as it is (the
    way to use a GPU). An error in a call is raised here, with the worker's traceback printed, once
    every started call has ended."""
    if at_once is not None and at_once < 1:
        raise ValueError(f"at_once must be at least 1, got {at_once!r}")
    threads = threads_per_process(total_threads, max(1, min(len(calls), at_once or len(calls))))
    if len(calls) == 1 or at_once == 1:
        return [function(**call) for call in calls]
    context = get_context("spawn")
    waiting, running, outcomes = list(enumerate(calls)), {}, [None] * len(calls)
    while waiting or running:
        while waiting and len(running) < (at_once or len(calls)) and not any(o and not o[0] for o in outcomes):
            index, call = waiting.pop(0)
            here, there = context.Pipe()
            process = context.Process(target=_worker, args=(there, threads, os.getpid()), daemon=True)
            process.start()
            here.send_bytes(pickle.dumps((function, call)))
            running[here] = (index, process)
        if not running:
            break
        for here in wait(list(running)):
            index, process = running.pop(here)
            try:
                outcomes[index] = pickle.loads(here.recv_bytes())
            except EOFError:
                outcomes[index] = (False, RuntimeError(f"a worker process of run_side_by_side died (exit code "
                                                       f"{process.join() or process.exitcode})"), "")
            process.join()
    for outcome in outcomes:
        if outcome is not None and not outcome[0]:
            print(outcome[2], file=sys.stderr)
            raise outcome[1]
    return [value for _, value, _ in outcomes]
