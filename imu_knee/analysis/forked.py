"""Run a function in a forked child process and get its (pickled) result back.

For CPU-bound work that holds the GIL (the analysis of one leg: VQF, numpy on small arrays)
on a machine with a spare core. The child inherits the parent's memory (copy-on-write, no
copying of the recording); only the result travels back, through a pipe. Where ``os.fork``
does not exist (Windows) :func:`can_fork` is False and callers run the work in-process.

A child that fails for any reason (an exception, a crash, a kill) gives :data:`FAILED` and
the caller runs the work itself: whatever went wrong then happens (and is reported) in the
caller, as without a child.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
from typing import Any, Callable

FAILED = object()  # a child's result when the child did not deliver one
_CHUNK = 1 << 20
# children that delivered their result and are exiting: a child's exit tears down its memory
# (~20 ms for one leg of the 1-hour benchmark), which the caller need not wait for; they are
# reaped when the next child is started (or by the system when this process ends)
_EXITING: list[int] = []


def reap_delivered(wait: bool = False) -> None:
    """Reap the delivered children that have exited by now (``wait``: all of them, waiting for
    their exit; a benchmark does, to count their CPU time)."""
    for pid in list(_EXITING):
        try:
            done, _ = os.waitpid(pid, 0 if wait else os.WNOHANG)
        except ChildProcessError:  # already reaped elsewhere
            done = pid
        if done:
            _EXITING.remove(pid)


def can_fork() -> bool:
    """True where a forked helper may run: POSIX fork, at least two usable CPUs, called from
    the main thread (not from a worker thread of an application such as the dashboard, whose
    other threads a fork would copy mid-work), and not inside a process pool's worker (a batch
    already keeps every core busy)."""
    if not hasattr(os, "fork") or threading.current_thread() is not threading.main_thread():
        return False
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return cpus >= 2 and multiprocessing.parent_process() is None


class ForkedCall:
    """``fn(*args)`` running in a forked child; :meth:`result` waits for it.

    Use as a context manager so that the child is stopped and reaped however the caller
    leaves (an exception, Ctrl-C)."""

    def __init__(self, fn: Callable[..., Any], *args: Any):
        reap_delivered()
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.close(read_fd)
                payload = pickle.dumps(fn(*args), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_fd, "wb") as out:
                    out.write(payload)
                code = 0
            except BaseException:  # noqa: BLE001 - the parent redoes the work and reports
                pass
            finally:
                os._exit(code)
        os.close(write_fd)
        self._pid: int | None = pid
        self._read_fd: int | None = read_fd

    def result(self) -> Any:
        """The child's return value, or :data:`FAILED`. A complete result (a pickle loads only
        when whole) is returned without waiting for the child's exit."""
        chunks = []
        try:
            while True:
                chunk = os.read(self._read_fd, _CHUNK)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError:
            chunks = []
        if chunks:
            try:
                value = pickle.loads(b"".join(chunks))
            except Exception:  # noqa: BLE001 - a truncated or corrupt payload
                pass
            else:
                self._close_pipe()
                if self._pid is not None:
                    _EXITING.append(self._pid)
                    self._pid = None
                return value
        self._reap()
        return FAILED

    def _close_pipe(self) -> None:
        if self._read_fd is not None:
            os.close(self._read_fd)
            self._read_fd = None

    def _reap(self) -> None:
        """Close the pipe and wait for the child's exit (its status is not needed: a result
        counts when it arrived whole)."""
        self._close_pipe()
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None

    def close(self) -> None:
        """Stop the child if it still runs and reap it."""
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._reap()

    def __enter__(self) -> "ForkedCall":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
