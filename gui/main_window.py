"""The dashboard window: Live / Replay / Review over one session view.

The GUI only draws: a separate process (:mod:`.worker`) runs the source and the
:class:`~.pipeline.Pipeline` (engine and coach); a timer (30 frames/s) takes its messages
through :class:`~.remote.RemoteSession` into fixed-size ring buffers and redraws.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (QButtonGroup, QFileDialog, QHBoxLayout, QLabel, QMainWindow,
                               QPushButton, QSplitter, QStackedWidget, QVBoxLayout, QWidget)

from imu_knee.errors import InputError
from imu_knee.recording import read_recording

from . import theme as themes
from .panels import CoachPanel, LastStepFigures
from .remote import RemoteSession
from .plots import SessionPlots
from .replay_panel import ReplayPanel
from .review import ReviewPage
from .settings import SettingsDialog, load_settings, save_settings
from .step_table import StepTable
from .units import Units

FRAME_MS = 25           # the timer runs a bit faster than the analysis sends (every 30 ms), so
                       # each message is drawn at the next tick: about 33 frames/s
REFINE_S = 0.15        # how far a final row may move its contact's time (engine: tens of ms)

pg.setConfigOptions(antialias=False)   # plain lines draw several times faster
# The analysis thread holds the GIL in bursts (a calibration, the session rules); a short
# switch interval lets the GUI thread in every millisecond so frames keep coming.
GIL_SWITCH_S = 0.001


def load_thresholds_quietly(path: str):
    """The user's thresholds file, or the built-in ones (None) when unset."""
    if not path:
        return None
    from imu_knee.coach import load_thresholds
    return load_thresholds(path)


class MainWindow(QMainWindow):
    def __init__(self, theme_name: str | None = None):
        super().__init__()
        self.setWindowTitle("imu-knee dashboard")
        self.settings = load_settings()
        self._saved_theme = self.settings.theme     # a --theme option is for this run only
        if theme_name:
            self.settings.theme = theme_name
        self.theme = themes.THEMES[self.settings.theme]
        self.units = Units(self.settings.units)
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="imu-knee-gui")
        self.pipeline: RemoteSession | None = None   # the analysis process of the session
        self.source = None
        self.mode = "live"
        self.session_kind = None          # "replay" or "live"
        self.recording = None
        self.session_file: str | None = None   # the file the report/history analyse
        self._loading: Future | None = None
        self._reviewed = False
        self.frames = 0                   # redraws done (benchmarks)
        self._drawn_t_s = None
        self._card = None
        self.latencies_s: deque = deque(maxlen=2000)  # (contact, wall at contact, wall on screen)
        self.last_error = ""
        self.setAcceptDrops(True)
        sys.setswitchinterval(GIL_SWITCH_S)
        self._build()
        self.apply_theme(self.settings.theme)
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        root = QWidget()
        outer = QVBoxLayout(root)
        outer.setContentsMargins(8, 6, 8, 6)
        bar = QHBoxLayout()
        title = QLabel("imu-knee")
        title.setStyleSheet("font-size: 18px; font-weight: bold;")
        bar.addWidget(title)
        bar.addSpacing(16)
        self.mode_group = QButtonGroup(self)
        self.mode_buttons = {}
        for key, text in (("live", "Live"), ("replay", "Replay"), ("review", "Review")):
            b = QPushButton(text)
            b.setCheckable(True)
            b.setMinimumWidth(90)
            self.mode_group.addButton(b)
            self.mode_buttons[key] = b
            b.clicked.connect(lambda _=False, k=key: self.set_mode(k))
            bar.addWidget(b)
        bar.addStretch(1)
        self.status_label = QLabel("")
        self.status_label.setObjectName("muted")
        bar.addWidget(self.status_label)
        self.theme_btn = QPushButton("Dark theme")
        self.theme_btn.clicked.connect(self.toggle_theme)
        bar.addWidget(self.theme_btn)
        settings_btn = QPushButton("Settings…")
        settings_btn.clicked.connect(self.edit_settings)
        bar.addWidget(settings_btn)
        outer.addLayout(bar)

        self.pages = QStackedWidget()
        outer.addWidget(self.pages, 1)
        # session page
        session = QWidget()
        sl = QHBoxLayout(session)
        sl.setContentsMargins(0, 0, 0, 0)
        self.side_stack = QStackedWidget()
        self.side_stack.setFixedWidth(330)
        from .live_panel import LivePanel
        self.live_panel = LivePanel(self)
        self.replay_panel = ReplayPanel()
        self.side_stack.addWidget(self.live_panel)
        self.side_stack.addWidget(self.replay_panel)
        sl.addWidget(self.side_stack)
        centre = QVBoxLayout()
        self.figures = LastStepFigures(self.units)
        centre.addWidget(self.figures)
        split = QSplitter(Qt.Vertical)
        plot_box = QWidget()
        pl = QVBoxLayout(plot_box)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.setSpacing(2)
        legend = QLabel(
            f"<span style='color:{themes.BLUE}'>━━ left</span> &nbsp; "
            f"<span style='color:{themes.ORANGE}'>━━ right</span> &nbsp; ▼ contact &nbsp; △ toe-off &nbsp; "
            f"● impact peak &nbsp; <span style='color:{themes.VERMILLION}'>◯</span> impact above your "
            f"threshold &nbsp; ○ knee at contact &nbsp; □ best knee extension in stance")
        legend.setTextFormat(Qt.RichText)
        legend.setWordWrap(True)
        pl.addWidget(legend)
        self.plots = SessionPlots(self.theme)
        pl.addWidget(self.plots, 1)
        split.addWidget(plot_box)
        self.table = StepTable(self.units)
        split.addWidget(self.table)
        split.setSizes([640, 200])
        centre.addWidget(split, 1)
        sl.addLayout(centre, 1)
        self.coach_panel = CoachPanel()
        self.coach_panel.setFixedWidth(300)
        sl.addWidget(self.coach_panel)
        self.pages.addWidget(session)
        self.review = ReviewPage(self.units)
        self.pages.addWidget(self.review)
        self.setCentralWidget(root)

        self.replay_panel.open_requested.connect(self.choose_recording)
        self.replay_panel.play_toggled.connect(self.toggle_play)
        self.replay_panel.seek_requested.connect(self.seek_fraction)
        self.replay_panel.speed_changed.connect(self.set_speed)
        self._space = QShortcut(QKeySequence(Qt.Key_Space), self)
        self._space.setContext(Qt.ApplicationShortcut)
        self._space.activated.connect(self.toggle_play)
        self._rkey = QShortcut(QKeySequence(Qt.Key_R), self)
        self._rkey.setContext(Qt.ApplicationShortcut)
        self._rkey.activated.connect(self.toggle_record)
        open_action = QAction("Open", self)
        open_action.setShortcut(QKeySequence.Open)
        open_action.triggered.connect(self.choose_recording)
        self.addAction(open_action)
        self.set_mode("live")

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.mode_buttons[mode].setChecked(True)
        if mode == "review":
            self.pages.setCurrentIndex(1)
            self._fill_review()
        else:
            self.pages.setCurrentIndex(0)
            self.side_stack.setCurrentWidget(self.live_panel if mode == "live" else self.replay_panel)

    # ------------------------------------------------------------------ theme & settings

    def apply_theme(self, name: str) -> None:
        self.theme = themes.THEMES[name]
        self.settings.theme = name
        self.setStyleSheet(self.theme.stylesheet())
        self.plots.apply_theme(self.theme)
        self.theme_btn.setText("Light theme" if name == "dark" else "Dark theme")

    def toggle_theme(self) -> None:
        self.apply_theme("light" if self.settings.theme == "dark" else "dark")
        self._saved_theme = self.settings.theme
        save_settings(self.settings)

    def edit_settings(self) -> None:
        from .live_panel import profile_names
        dlg = SettingsDialog(self.settings, profile_names(), self)
        if dlg.exec():
            self.settings = dlg.result_settings()
            self._saved_theme = self.settings.theme
            save_settings(self.settings)
            self.units.system = self.settings.units
            self.table.model_.refresh_units()
            self.apply_theme(self.settings.theme)

    def leg_length_for(self, rec=None) -> float | None:
        if self.settings.leg_length_m > 0:
            return self.settings.leg_length_m
        return getattr(rec, "leg_length_m", None)

    # ------------------------------------------------------------------ replay

    def choose_recording(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open recording", self.settings.last_folder,
                                              "imu-knee recordings (*.csv);;All files (*)")
        if path:
            self.open_recording(path)

    def open_recording(self, path, speed: float | None = None, autoplay: bool = True) -> None:
        """Read the file off the GUI thread; the timer starts the replay when it is read."""
        self.set_mode("replay")
        self.show_error("")
        self.replay_panel.file_label.setText(f"reading {Path(path).name}…")
        self.settings.last_folder = str(Path(path).parent)
        self._pending_open = (str(path), speed, autoplay)
        self._loading = self.pool.submit(read_recording, path)

    def _finish_open(self) -> None:
        fut, self._loading = self._loading, None
        path, speed, autoplay = self._pending_open
        try:
            rec = fut.result()
            if not rec.streams:
                raise InputError(f"{path}: the recording has no sensor data")
        except InputError as exc:
            self.show_error(str(exc))
            self.replay_panel.file_label.setText(f"could not open {Path(path).name}")
            return
        except Exception as exc:  # a file we cannot read must never crash the window
            self.show_error(f"{Path(path).name}: cannot be read as a recording ({type(exc).__name__}: {exc})")
            self.replay_panel.file_label.setText(f"could not open {Path(path).name}")
            return
        self.start_replay(rec, speed or float(self.replay_panel.speed.currentData()), autoplay)

    def start_replay(self, rec, speed: float = 1.0, autoplay: bool = True) -> None:
        self.recording = rec
        session = self.start_session({
            "kind": "replay", "recording": rec, "rates_hz": {n: s.rate_hz for n, s in rec.streams.items()},
            "leg_length_m": self.leg_length_for(rec), "speed": speed, "autoplay": autoplay})
        if session is None:
            return
        self.session_kind = "replay"
        self.session_file = getattr(rec, "path", None)
        self.replay_panel.set_speed(speed)
        self.replay_panel.set_enabled(True)
        names = ", ".join(rec.streams)
        path = getattr(rec, "path", None)
        rates = sorted({f"{s.rate_hz:.0f} Hz" for s in rec.streams.values()})
        self.replay_panel.file_label.setText(
            f"<b>{Path(path).name if path else 'recording'}</b><br>{names}<br>"
            f"{rec.duration_s:.1f} s, {', '.join(rates)}")

    def start_session(self, spec: dict):
        """Start the analysis process for ``spec`` (see worker.run_worker); None if refused."""
        self.stop_session()
        old = self.pipeline
        if old is not None and old.proc.is_alive():
            old.stop()
            self.pool.submit(old.join, 5.0)   # drains its last messages so it can exit
        spec = dict(spec)
        spec["thresholds_file"] = self.settings.thresholds_file or None
        if spec["thresholds_file"]:
            try:
                load_thresholds_quietly(spec["thresholds_file"])
            except InputError as exc:
                self.show_error(f"thresholds file: {exc} (using the built-in thresholds)")
                spec["thresholds_file"] = None
        try:
            from imu_knee.analysis.engine import Engine
            Engine(spec["rates_hz"], spec.get("leg_length_m"))   # refuses unknown sensor names early
        except ValueError as exc:
            self.show_error(str(exc))
            return None
        session = RemoteSession(spec)
        self.pipeline = session
        self.source = session
        self.session_file = None          # set by start_replay, or when a live recording is saved
        self._reviewed = False
        self._clear_view()
        rates = spec["rates_hz"]
        self.plots.set_sensors(list(rates))
        self.figures.thigh_sides = {n.split("_")[0] for n in rates if n.endswith("thigh")}
        return session

    def _clear_view(self) -> None:
        self.plots.reset()
        self.table.model_.clear()
        self.figures.clear()
        self.coach_panel.clear()
        self._card = None           # (side, ic_s, provisional) of the step on the cards

    def toggle_play(self) -> None:
        src = self.source
        if src is None or self.session_kind != "replay":
            return
        if src.paused:
            src.resume()
        else:
            src.pause()

    def seek_fraction(self, frac: float) -> None:
        src = self.source
        if src is not None and self.session_kind == "replay":
            src.seek(src.t_start_s + frac * src.duration_s)

    def set_speed(self, speed: float) -> None:
        if self.source is not None and self.session_kind == "replay":
            self.source.set_speed(speed)

    def toggle_record(self) -> None:
        if self.mode == "live":
            self.live_panel.toggle_record()

    def stop_session(self, wait_s: float = 0.0) -> None:
        """Stop the running session; its last rows still arrive through the timer."""
        if self.source is not None:
            self.source.stop(wait_s)
        self.source = None

    def show_error(self, text: str) -> None:
        self.last_error = text
        self.replay_panel.show_error(text)
        self.status_label.setText(("⚠ " + text[:120]) if text else "")

    # ------------------------------------------------------------------ drag and drop

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_recording(urls[0])
            event.acceptProposedAction()

    # ------------------------------------------------------------------ the frame timer

    def _tick(self) -> None:
        if self._loading is not None and self._loading.done():
            self._finish_open()
        pipe = self.pipeline
        if pipe is None:
            return
        pipe.poll()
        src = self.source
        if pipe.error is not None:
            self.show_error(f"the session stopped: {pipe.error}")
            pipe.error = None
        u = pipe.take_updates()
        if u.reset:
            self._clear_view()
            self._reviewed = False
        now = time.monotonic()
        for n in u.notices:
            self.plots.add_notice(n.side, n.ic_s)
            self.latencies_s.append((n.ic_s, pipe.wall_at(n.ic_s), now))
        if u.steps:
            self.table.model_.add(u.steps)
            for s in u.steps:
                self.plots.add_step(s)
        self._show_last_step(u.contacts, u.steps)
        for cue in u.cues:
            self.coach_panel.show_cue(cue.text, cue.side, cue.t_s, cue.pattern)
        if u.coach_result is not None:
            self.coach_panel.show_finding(u.coach_result)
        self._ticks = getattr(self, "_ticks", 0) + 1
        snap = pipe.snapshot()
        fresh = (snap["latest_t_s"] != self._drawn_t_s or u.steps or u.notices or u.reset)
        if fresh:            # paused or waiting: nothing new, nothing to redraw
            self.plots.refresh(snap)
            self._drawn_t_s = snap["latest_t_s"]
            self.frames += 1
        if self.session_kind == "replay" and src is not None and self._ticks % 6 == 0:
            self.replay_panel.show_position(src.position_s, src.t_start_s, src.duration_s, src.paused)
        if pipe.recorded:
            path = pipe.recorded.pop()
            self.live_panel.show_recorded(path)
            if self.session_kind == "live":
                self.session_file = path          # the report/history analyse this file
                if self._reviewed:
                    self._fill_review()
        if self.session_kind == "live" and self._ticks % 10 == 0:
            self.live_panel.show_status(snap["status"])
        if u.finished or (pipe.finished and not self._reviewed):
            self._reviewed = True
            self.status_label.setText("session finished — the Review page has its summary")
            self._fill_review()

    def _show_last_step(self, contacts: list[dict], finals: list[dict]) -> None:
        """The cards show the newest contact: its contact row at once (provisional), then its
        final row; a final row of an older contact does not hide a newer provisional one."""
        n = len(self.table.model_.rows)
        rows = sorted([(r["ic_s"], 0, r) for r in contacts] + [(r["ic_s"], 1, r) for r in finals],
                      key=lambda x: (x[0], x[1]))
        for ic_s, is_final, row in rows:
            card = self._card
            if card is not None:
                side, shown_ic_s, provisional = card
                # a final row may refine its contact's time by a few tens of ms (stairs)
                same = is_final and provisional and row["side"] == side and ic_s >= shown_ic_s - REFINE_S
                if not (same or ic_s >= shown_ic_s):
                    continue
            self.figures.show_step(row, n, provisional=not is_final)
            self._card = (row["side"], ic_s, not is_final)

    def _fill_review(self) -> None:
        pipe = self.pipeline
        if pipe is None:
            return
        dur = self.recording.duration_s if (self.recording is not None and self.session_kind == "replay") else None
        rec = self.recording if self.session_kind == "replay" else None
        self.review.show_session(pipe.steps_frame(), pipe.coach_result, dur,
                                 recording_path=self.session_file,
                                 meta=getattr(rec, "meta", None), leg_length_m=self.leg_length_for(rec))

    def closeEvent(self, event) -> None:
        self.timer.stop()
        self.review.wait_jobs()              # a report being written finishes first
        self.live_panel.shutdown()
        if self.pipeline is not None:
            self.pipeline.stop(2.0)
        self.settings.theme = self._saved_theme
        save_settings(self.settings)
        self.pool.shutdown(wait=False, cancel_futures=True)
        super().closeEvent(event)
