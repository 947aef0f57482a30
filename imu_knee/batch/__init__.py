"""Batch analysis for researchers and clinics: many recordings, one table, local processes
or a Dask cluster; and the history hook of ``imu-knee analyze``.

- run.py: :func:`run_batch` (serial, ``--jobs N`` processes, or ``--scheduler`` Dask).
- worker.py: :func:`analyze_file`, the picklable unit of work.
- inputs.py: :func:`expand_inputs` (files, folders, globs).
- hooks.py: :func:`store_session` (store one analysed recording in the history).
- cli.py: the ``analyze`` options and glue (``add_arguments``, ``run_batch_from_args``,
  ``store_after_analyze``).
"""

from .hooks import store_session
from .inputs import expand_inputs
from .run import BatchResult, run_batch, sessions_table, steps_table
from .worker import FileResult, analyze_file

__all__ = ["BatchResult", "FileResult", "analyze_file", "expand_inputs", "run_batch",
           "sessions_table", "steps_table", "store_session"]
