"""Dashboard tests (pytest-qt, offscreen): replay, live through virtual sensors, bad files."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")
pytest.importorskip("pytestqt")

from imu_knee.analysis.engine import analyze_recording  # noqa: E402
from imu_knee.analysis.steps import STEP_COLUMNS  # noqa: E402
from imu_knee.coach import LiveCoach, coach_steps  # noqa: E402
from imu_knee.commands.dashboard import load_gui  # noqa: E402
from imu_knee.recording import read_recording  # noqa: E402

load_gui()

from imu_knee_gui.main_window import MainWindow  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "gui" / "hard_landing_stairs.csv"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _own_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("IMU_KNEE_GUI_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("IMU_KNEE_HOME", str(tmp_path / "history"))


@pytest.fixture(scope="module")
def offline():
    """What the core gives for the fixture: steps, session findings, live cues."""
    rec = read_recording(FIXTURE)
    steps, _summary = analyze_recording(rec)
    result = coach_steps(steps, shank_rate_hz=100.0, leg_length_m=rec.leg_length_m)
    coach = LiveCoach(leg_length_m=rec.leg_length_m)
    cues = [c for row in steps.to_dict("records") for c in coach.push_step(row)]
    return rec, steps, result, cues


@pytest.fixture
def window(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1500, 950)
    win.show()
    yield win
    win.review.wait_jobs()
    win.stop_session()
    win.live_panel.stop_recording()


def _replay_to_end(qtbot, win, path, speed=16.0):
    win.open_recording(str(path), speed=speed)
    qtbot.waitUntil(lambda: win.pipeline is not None and win.pipeline.finished and win._reviewed,
                    timeout=30000)


def test_replay_shows_the_engines_steps_cues_and_findings(qtbot, window, offline, tmp_path):
    rec, steps, result, cues = offline
    assert result.findings and cues, "the fixture is made to have a hard-landing finding and cue"
    shown_cards = []
    real_show = window.figures.show_step

    def spy(step, n, provisional=False):
        shown_cards.append((provisional, step["side"], step["ic_s"], window.pipeline.position_s))
        real_show(step, n, provisional)

    window.figures.show_step = spy
    _replay_to_end(qtbot, window, FIXTURE)
    shown = window.table.model_.rows
    # live-paced replay gives the same steps as the one-shot analysis (same engine)
    assert len(shown) == len(steps)
    assert np.allclose(sorted(r["ic_s"] for r in shown), np.sort(steps["ic_s"].to_numpy()))
    # the cue and the finding on screen are the coach's
    assert window.coach_panel.cue.text() == cues[-1].text
    f = next((x for x in result.findings if x.pattern == cues[-1].pattern), result.findings[0])
    assert f.title in window.coach_panel.finding_title.text()
    assert f.side in window.coach_panel.finding_title.text()
    assert window.coach_panel.evidence.text() == f.evidence
    assert "Exercise" in window.coach_panel.exercise.text()
    # big figures show the last step
    last = max(shown, key=lambda r: r["ic_s"])   # the newest contact, final at the end
    assert not window.figures.provisional
    assert window.figures.impact.value.text() == f"{last['impact_g']:.2f} g"
    assert window.figures.activity.text() != "—"
    # contact markers were on screen before the rows were final, one per contact
    assert len(window.latencies_s) == len(steps)
    # the cards showed most steps provisionally (contact row) before their final row (at 16x
    # speed a frame is ~0.5 s of recording, so both often come in one frame; the delay after
    # the contact is tested on the pipeline in test_gui_core)
    early = {(side, round(ic, 1)): pos for prov, side, ic, pos in shown_cards if prov}
    assert len(early) >= 0.6 * len(steps)
    finals_shown = [(side, ic, pos) for prov, side, ic, pos in shown_cards if not prov]
    later = [pos - early[(side, round(ic, 1))] for side, ic, pos in finals_shown
             if (side, round(ic, 1)) in early]
    assert later and min(later) >= 0, "final rows come after the provisional ones"
    # the table and the coach only have final rows
    assert all("provisional_stride" not in str(r.get("flags", "")) for r in shown)
    # review: summary, findings, exports
    window.set_mode("review")
    assert all(x.title in window.review.findings.text() for x in result.findings)
    assert f"{len(steps)} steps" in window.review.summary.text()
    assert window.review.export_steps.isEnabled()
    assert window.review.export_report.isEnabled()      # the replayed file is the recording
    assert window.review.save_history.isEnabled()
    # export steps (CSV): the analysis' per-step table
    out = tmp_path / "steps.csv"
    window.review.export_steps_to(str(out))
    got = pd.read_csv(out)
    assert list(got.columns[: len(STEP_COLUMNS)]) == STEP_COLUMNS
    assert len(got) == len(steps)
    assert np.allclose(got["impact_g"].to_numpy(float), steps["impact_g"].to_numpy(float), equal_nan=True,
                       atol=1e-3)


def test_review_report_and_history(qtbot, window, offline, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox
    from imu_knee.history import list_sessions

    rec, steps, _result, _cues = offline
    _replay_to_end(qtbot, window, FIXTURE)
    window.set_mode("review")
    review = window.review
    qtbot.waitUntil(lambda: not review.busy(), timeout=20000)
    assert "No earlier sessions" in review.history.text()
    # the report: written in a worker while the window keeps drawing
    out = tmp_path / "r.pdf"
    job = review.export_report_to(str(out))
    assert job is not None
    ticks = []
    qtbot.waitUntil(lambda: ticks.append(1) or not review.busy(), timeout=60000)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert out.read_bytes()[:5] == b"%PDF-" and "<html" in html.lower()
    assert len(ticks) > 3, "the GUI thread kept running while the report was written"
    # never overwrite without asking: "No" keeps the file, "Yes" replaces it
    (tmp_path / "r.html").write_text("keep", encoding="utf-8")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.No)
    assert review.export_report_to(str(out)) is None
    assert asked and (tmp_path / "r.html").read_text(encoding="utf-8") == "keep"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    review.export_report_to(str(tmp_path / "r.html"))
    qtbot.waitUntil(lambda: not review.busy(), timeout=60000)
    assert "<html" in (tmp_path / "r.html").read_text(encoding="utf-8").lower()
    # nothing is stored until asked; then once, as `imu-knee analyze` stores it
    db = tmp_path / "history" / "history.sqlite"
    assert not db.exists()
    review.save_to_history()
    qtbot.waitUntil(lambda: not review.busy(), timeout=30000)
    assert "in the history" in review.job_note.text()
    sessions = list_sessions(db)
    assert len(sessions) == 1 and int(sessions["n_steps"].iloc[0]) == len(steps)
    assert "Weekly medians" in review.history.text() and "impact" in review.history.text()


def test_seek_pause_and_speed(qtbot, window):
    _drop(window, FIXTURE)                     # drag-and-drop opens the recording
    qtbot.waitUntil(lambda: window.source is not None, timeout=10000)
    window.set_speed(16)
    qtbot.waitUntil(lambda: window.source is not None and window.source.position_s > 15, timeout=20000)
    src = window.source
    from PySide6.QtCore import Qt
    qtbot.keyClick(window, Qt.Key_Space)       # pause
    assert src.paused
    held = []                                  # the worker's messages in flight still arrive:
    for _ in range(10):                        # within a few 300-ms looks the position holds
        pos = src.position_s
        qtbot.wait(300)
        held.append(src.position_s == pos)
        if held[-1]:
            break
    assert held[-1] and src.paused
    n_before = len(window.table.model_.rows)
    assert n_before > 10
    window.seek_fraction(0.0)                  # back to the start: the session restarts
    qtbot.waitUntil(lambda: len(window.table.model_.rows) < n_before, timeout=5000)
    window.set_speed(0.25)
    window.toggle_play()
    t0, p0 = time.monotonic(), src.position_s
    qtbot.wait(800)
    rate = (src.position_s - p0) / (time.monotonic() - t0)
    assert 0.1 < rate < 0.5                    # 0.25 x real time


BAD_FILES = [
    ("timestamp_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n0.0,left_shank,0,9.8,0,0,0,0\n"
     "0.01,left_shank,nan,9.8,0,0,0,0\n", "line"),
    ("this is not a recording\n", "header"),
    ("\x00\x01\x02binary", ""),
]


def test_corrupt_files_give_a_clear_message(qtbot, window, tmp_path):
    for i, (content, words) in enumerate(BAD_FILES):
        bad = tmp_path / f"bad{i}.csv"
        bad.write_text(content, errors="surrogateescape")
        window.show_error("")
        window.open_recording(str(bad))
        qtbot.waitUntil(lambda: bool(window.last_error), timeout=10000)
        assert window.replay_panel.error.isVisible()
        assert "\n" not in window.last_error and "Traceback" not in window.last_error
        assert words.lower() in window.last_error.lower()
        assert window.pipeline is None            # nothing started, the window is still alive
    window.open_recording(str(FIXTURE), speed=16)   # and it recovers with a good file
    qtbot.waitUntil(lambda: window.pipeline is not None and len(window.table.model_.rows) > 0, timeout=20000)
    assert not window.replay_panel.error.isVisible()


def test_live_mode_with_virtual_sensors_and_recording(qtbot, window, tmp_path):
    from imu_knee.simulate import simulate

    # Polar Verity Sense: a rate it supports, several samples per notification (light on a
    # busy machine) and the standard Battery Service
    rec = simulate("level:5", sensors=("left_shank", "right_shank"), rate_hz=104, seed=5).recording
    window.set_mode("live")
    window.settings.profile = "polar"
    panel = window.live_panel
    panel.set_virtual_recording(rec)
    assert panel.start_btn.isEnabled()
    assert panel.table.item(0, 4).text() == "—"     # not known before it connects
    panel.start()
    qtbot.waitUntil(lambda: len(window.table.model_.rows) >= 3, timeout=30000)
    # steps come from the first swing on (provisional knee axis); the full calibration follows
    qtbot.waitUntil(lambda: all(window.pipeline.snapshot()["status"][n].calibration.startswith("calibrated")
                                for n in ("left_shank", "right_shank")), timeout=20000)
    status = window.pipeline.snapshot()["status"]
    for name in ("left_shank", "right_shank"):
        assert 80 < status[name].measured_rate_hz < 120
    # the guided calibration shows each sensor's result; the table its measured rate
    qtbot.waitUntil(lambda: panel.cal_steps.text().count("✓") + panel.cal_steps.text().count("!") >= 2,
                    timeout=5000)
    qtbot.waitUntil(lambda: panel.table.item(0, 2).text() not in ("", "—"), timeout=5000)
    assert 80 < float(panel.table.item(0, 2).text()) < 120
    from imu_knee.ble.virtual.sensor import DEFAULT_BATTERY_PERCENT
    qtbot.waitUntil(lambda: panel.table.item(1, 4).text() == f"{DEFAULT_BATTERY_PERCENT} %", timeout=5000)
    from PySide6.QtCore import Qt
    qtbot.keyClick(window, Qt.Key_R)           # R: record
    assert panel.recording_to is not None
    qtbot.wait(1200)
    window.toggle_record()
    qtbot.waitUntil(lambda: bool(panel.saved), timeout=5000)
    saved = read_recording(panel.saved[-1])
    assert set(saved.streams) == {"left_shank", "right_shank"}
    assert saved.duration_s > 0.5
    n_before = len(window.table.model_.rows)
    # scanning for real sensors finds none here: the panel says so and points to the virtual ones
    panel.scan()
    qtbot.waitUntil(lambda: "try the virtual sensors" in panel.scan_note.text().lower(),
                    timeout=15000)
    panel.stop()
    qtbot.waitUntil(lambda: window.pipeline.finished, timeout=10000)
    assert len(window.table.model_.rows) >= n_before
    # the recorded file is what the report and the history analyse
    window.set_mode("review")
    assert window.review.recording_path == panel.saved[-1]
    assert window.review.export_report.isEnabled() and window.review.save_history.isEnabled()
    qtbot.waitUntil(lambda: not window.review.busy(), timeout=20000)


def test_review_without_a_file_explains_why_report_is_off(qtbot):
    from imu_knee_gui.review import NO_FILE, ReviewPage
    from imu_knee_gui.units import Units

    page = ReviewPage(Units("metric"))
    qtbot.addWidget(page)
    steps = pd.DataFrame({"side": ["left"], "activity": ["level"], "impact_g": [1.5]})
    page.show_session(steps, None, None, recording_path=None)
    qtbot.waitUntil(lambda: not page.busy(), timeout=20000)
    for b in (page.export_report, page.save_history):
        assert not b.isEnabled() and b.toolTip() == NO_FILE
    assert "No earlier sessions" in page.history.text()
    page.wait_jobs()


def test_settings_persist_and_change_the_view(qtbot, tmp_path):
    from imu_knee_gui.settings import load_settings, save_settings

    s = load_settings()
    assert s.theme == "light" and s.units == "metric"
    s.theme, s.units, s.leg_length_m = "dark", "imperial", 0.93
    s.placements = {"virtual:left_shank": "right_shank"}
    save_settings(s)
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.settings.theme == "dark" and win.theme.name == "dark"
    assert win.settings.placements == {"virtual:left_shank": "right_shank"}
    assert win.leg_length_for(None) == pytest.approx(0.93)
    assert "ft" in win.table.model_.headerData(5, pg_horizontal())
    win.toggle_theme()
    assert load_settings().theme == "light"


def _drop(window, path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(event)


def pg_horizontal():
    from PySide6.QtCore import Qt
    return Qt.Horizontal


def test_screenshot_command(tmp_path):
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", IMU_KNEE_GUI_SETTINGS=str(tmp_path / "s.ini"))
    proc = subprocess.run([sys.executable, "-m", "imu_knee", "dashboard", "--replay", str(FIXTURE),
                           "--speed", "16", "--screenshot", str(out), "--quit-after", "2.5",
                           "--size", "1200x800"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    from PySide6.QtGui import QImage
    img = QImage(str(out))
    assert img.width() >= 1200 and img.height() >= 800
    bad = subprocess.run([sys.executable, "-m", "imu_knee", "dashboard", "--speed", "100"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "speed" in bad.stderr and "Traceback" not in bad.stderr


def test_real_sensor_that_cannot_connect_gives_a_message(qtbot, window):
    """A scanned sensor gets a placement and Start; without Bluetooth here the session fails
    with a one-line message on screen instead of a crash."""
    window.set_mode("live")
    panel = window.live_panel
    panel.show_devices([{"name": "Movesense 1", "address": "00:11:22:33:44:55", "profile": "movesense"}])
    combo = panel.table.cellWidget(0, 1)
    combo.setCurrentText("right_shank")
    assert window.settings.placements["00:11:22:33:44:55"] == "right_shank"
    assert panel.table.item(0, 4).text() == "—"
    panel.start()
    assert window.pipeline is not None and window.pipeline.rates_hz == {"right_shank": 104.0}
    qtbot.waitUntil(lambda: bool(window.last_error), timeout=30000)
    assert "Bluetooth" in window.last_error and "\n" not in window.last_error
