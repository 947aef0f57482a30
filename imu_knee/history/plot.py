"""Plot of weekly trends (matplotlib's object interface: no display and no global figure state)."""

from __future__ import annotations

import os

import pandas as pd

from ..errors import InputError
from .trends import ACTIVITY_WORDS, METRIC_WORDS

SIDE_COLOURS = {"left": "#1f77b4", "right": "#d62728"}
ACTIVITY_STYLES = {"level": "-", "stairs_up": "--", "stairs_down": ":"}


def plot_trends(weekly: pd.DataFrame, path: str | os.PathLike, title: str = "") -> None:
    """One panel per metric in ``weekly`` (from :func:`weekly_trends`): the weekly median per
    side (colour) and activity (line style); a marker's size grows with that week's sessions."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise InputError("--plot needs matplotlib (pip install matplotlib)") from None
    if weekly.empty:
        raise InputError("nothing to plot: no stored sessions measured that metric")
    metrics = list(dict.fromkeys(weekly["metric"]))
    fig = Figure(figsize=(8, 2.8 * len(metrics) + 0.6))
    axes = fig.subplots(len(metrics), 1, squeeze=False, sharex=True)
    for ax, metric in zip(axes[:, 0], metrics):
        d = weekly[weekly["metric"] == metric]
        for (side, activity), g in d.groupby(["side", "activity"], sort=True):
            x = pd.to_datetime(g["week_start"])
            ax.plot(x, g["median"], ACTIVITY_STYLES.get(activity, "-."),
                    color=SIDE_COLOURS.get(side, "grey"),
                    label=f"{side}, {ACTIVITY_WORDS.get(activity, activity)}")
            ax.scatter(x, g["median"], s=12 + 8 * g["sessions"].to_numpy(),
                       color=SIDE_COLOURS.get(side, "grey"))
        ax.set_ylabel(f"{METRIC_WORDS.get(metric, metric)}\n({metric})", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    axes[-1, 0].set_xlabel("week starting (median of the week's sessions)")
    fig.suptitle(title or "imu-knee: weekly trends")
    fig.autofmt_xdate()
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the plot ({exc.strerror or exc})") from None
    except ValueError as exc:  # an unknown file type
        raise InputError(f"{path}: {exc} (use .png, .pdf or .svg)") from None
