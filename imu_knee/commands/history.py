"""`imu-knee history`: stored sessions, trends over weeks, the 4-6 week rule, CSV export.

    imu-knee history [--db PATH] [--subject S] [--metric impact_g] [--plot OUT.png]
                     [--export-steps OUT.csv] [--as-of DATE] [--last N]

The database is ``--db PATH``, else ``$IMU_KNEE_HOME/history.sqlite``, else the user data
folder (see ``imu_knee.history.db``). Sessions get there from ``imu-knee analyze``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError

DEFAULT_PLOT_METRICS = ("impact_g", "frontal_wobble_dps", "knee_min_flexion_stance_deg",
                        "stride_length_m")


def add_history_options(parser, subject_help: str, db_help: str = "history database file") -> None:
    """``--db PATH`` and ``--subject S``: the same two options for every command that reads or
    writes the history (history, analyze, report); only their help texts differ."""
    parser.add_argument("--db", type=Path, default=None, metavar="PATH",
                        help=f"{db_help} (default: $IMU_KNEE_HOME/history.sqlite or the user"
                             " data folder)")
    parser.add_argument("--subject", default=None, metavar="S", help=subject_help)


def add_arguments(parser) -> None:
    add_history_options(parser, "only this subject")
    parser.add_argument("--metric", default=None, metavar="NAME",
                        help="show this per-step metric week by week (e.g. impact_g;"
                             " comma-separated for several)")
    parser.add_argument("--plot", type=Path, default=None, metavar="OUT.png",
                        help="write a plot of the weekly trends")
    parser.add_argument("--export-steps", type=Path, default=None, metavar="OUT.csv",
                        help="write every stored per-step row to one CSV")
    parser.add_argument("--as-of", default=None, metavar="DATE",
                        help="judge trends as of this date (ISO, default: now)")
    parser.add_argument("--last", type=int, default=20, metavar="N",
                        help="list the last N sessions (default 20; 0 = all)")


def run(args) -> int:
    from ..history import (default_db_path, export_steps_csv, list_sessions, open_history,
                           persistent_findings, weekly_trends)
    from ..history.db import TREND_METRICS
    from ..history.store import utc_text

    path = default_db_path(args.db)
    metrics = [m.strip() for m in (args.metric or "").split(",") if m.strip()]
    for m in metrics:
        if m not in TREND_METRICS:
            raise InputError(f"--metric {m}: unknown; choose from {', '.join(TREND_METRICS)}")
    if args.last < 0:
        raise InputError("--last must be 0 or more")
    for out in (args.plot, args.export_steps):
        if out is not None and out.parent and not out.parent.exists():
            raise InputError(f"{out}: folder {out.parent} does not exist")
    as_of = None
    if args.as_of:  # a plain date means the end of that day
        text = args.as_of.strip()
        as_of = utc_text(text + "T23:59:59Z" if len(text) == 10 else text)
    if not path.is_file():
        if path.exists():
            raise InputError(f"history database {path} is not a file")
        print(f"No history yet at {path}: sessions are stored when you run 'imu-knee analyze'.")
        return 0
    out = sys.stdout
    with open_history(path, create=False) as db:
        sessions = list_sessions(db, subject=args.subject)
        if as_of is not None:
            sessions = sessions[sessions["recorded_at"] <= as_of]
        who = f" for subject '{args.subject}'" if args.subject else ""
        print(f"History {path}: {len(sessions)} session(s){who}", file=out)
        if sessions.empty:
            return 0
        _print_sessions(sessions, args.last, out)
        weekly = weekly_trends(db, subject=args.subject)
        if as_of is not None and not weekly.empty:
            weekly = weekly[weekly["week_start"].astype(str) <= as_of[:10]]
        _print_trends(weekly, metrics, out)
        _print_persistence(persistent_findings(db, subject=args.subject, now=as_of), out)
        if args.plot is not None:
            from ..history.plot import plot_trends
            shown = metrics or [m for m in DEFAULT_PLOT_METRICS if (weekly["metric"] == m).any()]
            plot_trends(weekly[weekly["metric"].isin(shown)], args.plot,
                        title=f"imu-knee weekly trends{who}")
            print(f"plot -> {args.plot}", file=out)
        if args.export_steps is not None:
            n = export_steps_csv(args.export_steps, db, subject=args.subject)
            print(f"{n} steps -> {args.export_steps}", file=out)
    return 0


def _print_sessions(sessions, last: int, out) -> None:
    shown = sessions if last == 0 else sessions.tail(last)
    if len(shown) < len(sessions):
        print(f"\nLast {len(shown)} sessions (--last 0 lists all):", file=out)
    else:
        print("\nSessions:", file=out)
    print(f"  {'id':>5}  {'recorded (UTC)':16}  {'subject':10}  {'steps':>5}  findings", file=out)
    for r in shown.itertuples(index=False):
        when = r.recorded_at[:16].replace("T", " ")
        source = f"  [{Path(r.source).name}]" if r.source else ""
        print(f"  {r.session_id:>5}  {when:16}  {r.subject[:10]:10}  {r.n_steps:>5}  "
              f"{r.findings or '-'}{source}", file=out)


def _print_trends(weekly, metrics: list[str], out) -> None:
    from ..history.trends import ACTIVITY_WORDS, fmt_value

    if weekly.empty:
        print("\nNo trends yet (no metric was measured in 3 or more steps).", file=out)
        return
    several = weekly["subject"].nunique() > 1
    if metrics:
        for metric in metrics:
            d = weekly[weekly["metric"] == metric]
            print(f"\nWeekly trend of {metric} (median of each week's session medians):", file=out)
            if d.empty:
                print("  not measured in any stored session", file=out)
                continue
            for key, g in d.groupby(["subject", "side", "activity"], sort=True):
                subj, side, act = key
                label = f"{subj}: " if several else ""
                print(f"  {label}{side} leg, {ACTIVITY_WORDS.get(act, act)}:", file=out)
                for r in g.itertuples(index=False):
                    print(f"    week of {r.week_start}  {fmt_value(r.median, metric):>9}"
                          f"  ({r.sessions} session(s), {r.steps} steps)", file=out)
        return
    print("\nTrends (first week -> latest week, median of session medians;"
          " --metric NAME shows every week):", file=out)
    for key, g in weekly.groupby(["subject", "metric", "side", "activity"], sort=True):
        subj, metric, side, act = key
        first, last = g.iloc[0], g.iloc[-1]
        label = f"{subj}: " if several else ""
        change = ""
        if len(g) > 1:
            change = f"  ({len(g)} weeks, {first['week_start']} -> {last['week_start']})"
        print(f"  {label}{metric:28} {side:5} {act:11} "
              f"{fmt_value(first['median'], metric):>9} -> {fmt_value(last['median'], metric):>9}"
              f"{change}", file=out)


def _print_persistence(persisting, out) -> None:
    advise = [p for p in persisting if p.advise_therapist]
    other = [p for p in persisting if not p.advise_therapist]
    if advise:
        print("\nSee a physical therapist:", file=out)
        for p in advise:
            print(f"  - {p.message()}", file=out)
    if other:
        print("\nFindings that keep showing up:", file=out)
        for p in other:
            print(f"  - {p.message()}", file=out)
