"""Run one call in a thread while the caller does something else (e.g. read a recording while
the analysis modules load: the CSV parsers release the GIL, so the two share two cores)."""

from __future__ import annotations

import threading


class InBackground:
    """``fn(*args)`` in a thread; :meth:`result` waits and returns its value (or raises its
    error in the caller's thread, so a bad file still gives its one-line message)."""

    def __init__(self, fn, *args):
        self._value, self._error = None, None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn, args) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller in result()
            self._error = exc

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value
