"""`imu-knee report REC.csv -o REPORT.html [--pdf REPORT.pdf]`: a session report.

A self-contained HTML page (no network, no external files) and optionally a PDF (reportlab,
no browser) for a person and their therapist. Existing files are never overwritten without
``--force``; the recording itself is never overwritten.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from ..background import InBackground
from ..errors import InputError
from ..paths import check_output_path, output_folder
from .history import add_history_options

MAX_NAME_CHARS = 120
MAX_NOTES_CHARS = 5000


def add_arguments(parser) -> None:
    parser.add_argument("recording", type=Path, help="recording CSV (DESIGN.md section 1)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="REPORT.html",
                        help="output: the HTML report")
    parser.add_argument("--pdf", type=Path, default=None, metavar="REPORT.pdf",
                        help="output: the same report as a PDF")
    parser.add_argument("--name", default="", help="the person's name, shown in the title")
    parser.add_argument("--notes", default="", help="free notes shown in the report")
    parser.add_argument("--leg-length", type=float, default=None, metavar="M",
                        help="leg length in m (hip bone to ankle); improves stride length")
    add_history_options(parser, "compare with this subject's stored sessions (default: the"
                        " recording's subject, as `imu-knee analyze` stores it)",
                        db_help="session history for the trend")
    parser.add_argument("--no-history", action="store_true",
                        help="do not read the session history (no trend)")
    parser.add_argument("--earlier", type=Path, default=None, metavar="SESSIONS.json",
                        help="earlier sessions for the trend from a JSON list of"
                             " {date, medians|sides} instead of the history")
    parser.add_argument("--force", action="store_true", help="overwrite existing report files")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def check_outputs(recording: Path, outputs: list[Path], force: bool) -> None:
    """Refuse overwriting without --force, the recording itself, and missing folders."""
    for i, out in enumerate(outputs):
        if _same_file(out, recording):
            raise InputError(f"{out}: this is the recording itself; choose another report path")
        if any(_same_file(out, o) for o in outputs[:i]):
            raise InputError(f"{out}: the HTML and the PDF need different paths")
        check_output_path(out, force)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename it over (never a half file)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=output_folder(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _load_earlier(path: Path | None):
    from ..report import EarlierSession

    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise ValueError("expected a JSON list of sessions")
        return [EarlierSession.from_dict(d) for d in data]
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: not a list of earlier sessions ({exc})") from None


def _import_renderers(pdf: bool) -> None:
    try:
        importlib.import_module("imu_knee.report.plots")
        if pdf:
            from ..report import pdf as _pdf
            _pdf._register_fonts()
    except Exception:  # a real problem shows again (with its message) when rendering
        pass


def run(args) -> int:
    from ..heap import keep_freed_memory
    from ..recording import read_recording

    keep_freed_memory()  # the analysis' temporaries reuse freed heap (imu_knee/heap.py)
    if args.leg_length is not None and not 0.4 <= args.leg_length <= 1.4:
        raise InputError(f"--leg-length {args.leg_length}: expected metres between 0.4 and 1.4")
    if len(args.name) > MAX_NAME_CHARS:
        raise InputError(f"--name is longer than {MAX_NAME_CHARS} characters")
    if len(args.notes) > MAX_NOTES_CHARS:
        raise InputError(f"--notes is longer than {MAX_NOTES_CHARS} characters")
    outputs = [args.output] + ([args.pdf] if args.pdf else [])
    check_outputs(args.recording, outputs, args.force)
    say = (lambda m: None) if args.quiet else (lambda m: print(f"imu-knee: {m}", file=sys.stderr))
    started = time.perf_counter()
    say(f"reading {args.recording}")
    reading = InBackground(read_recording, args.recording)
    # while the file is read: the analysis, matplotlib and reportlab load (no thread is left
    # running afterwards, so the analysis may fork)
    from ..report import HistoryInput, analyse_session, build_content, history_for, render_html, render_pdf

    _import_renderers(bool(args.pdf))
    earlier = _load_earlier(args.earlier)
    rec = reading.result()
    if earlier is not None:
        history = HistoryInput(earlier)
    elif args.no_history:
        history = HistoryInput()
    else:
        history = history_for(rec, db=args.db, subject=args.subject)
    say("analysing")
    data = analyse_session(rec, leg_length_m=args.leg_length, earlier=history.earlier)
    data.persisting, data.see_therapist = history.persisting, history.see_therapist
    data.history_note = history.note
    say("drawing figures")
    content = build_content(data, name=args.name.strip(), notes=args.notes.strip())
    write_atomic(args.output, render_html(content).encode("utf-8"))
    done = [str(args.output)]
    if args.pdf:
        pdf, pages = render_pdf(content)
        write_atomic(args.pdf, pdf)
        done.append(f"{args.pdf} ({pages} pages)")
    say(f"{len(data.steps)} steps, {len(content.findings)} finding(s) in "
        f"{time.perf_counter() - started:.2f} s -> {', '.join(done)}")
    return 0
