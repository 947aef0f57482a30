"""Live mode: find sensors (or use virtual ones), assign placements, guided calibration,
start/stop, record. Sensor rate, losses and battery come from the source and the engine."""

from __future__ import annotations

import datetime as dt

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget, QHeaderView)

from imu_knee.recording import SENSOR_NAMES

from .live_source import ble_available, stream_rate_hz

RECORDINGS_DIR = Path.home() / "imu-knee" / "recordings"
NO_BATTERY = "—"            # the device does not report its battery (or has not yet)
LIVE_DEMO_RATE_HZ = 100.0   # four virtual BLE sensors at 200 Hz outrun the virtual radio on a busy machine


def profile_names() -> list[str]:
    try:
        from imu_knee.ble.profiles import PROFILE_NAMES
        return list(PROFILE_NAMES)
    except ImportError:
        return ["imu-knee"]


class LivePanel(QWidget):
    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.win = window
        self.virtual_rec = None
        self.assignment: dict[str, str] = {}
        self.recording_to: Path | None = None
        self.saved: list[str] = []
        self._demo_future = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)

        box = QGroupBox("Sensors")
        bl = QVBoxLayout(box)
        row = QHBoxLayout()
        self.scan_btn = QPushButton("Scan")
        self.scan_btn.setToolTip("look for Bluetooth sensors nearby")
        self.scan_btn.clicked.connect(self.scan)
        self.virtual_btn = QPushButton("Use virtual sensors")
        self.virtual_btn.setToolTip("simulated sensors streaming a demo walk: try everything without hardware")
        self.virtual_btn.clicked.connect(self.use_virtual)
        row.addWidget(self.scan_btn)
        row.addWidget(self.virtual_btn)
        bl.addLayout(row)
        self.scan_note = QLabel("Scan for sensors, or try virtual ones.")
        self.scan_note.setWordWrap(True)
        self.scan_note.setObjectName("muted")
        bl.addWidget(self.scan_note)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["#", "placement", "Hz", "lost", "battery"])
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for i in range(5):    # every column as wide as its text; the placement gets the rest
            header.setSectionResizeMode(i, QHeaderView.Stretch if i == 1 else QHeaderView.ResizeToContents)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.table.setToolTip("Hz: samples per second arriving; lost: packets lost (+ gaps without data); "
                              "battery: when the device reports it")
        self.table.setMinimumHeight(150)
        bl.addWidget(self.table)
        row = QHBoxLayout()
        self.start_btn = QPushButton("▶ Start")
        self.start_btn.setEnabled(False)
        self.start_btn.clicked.connect(self.start_stop)
        self.record_btn = QPushButton("● Record")
        self.record_btn.setToolTip("start / stop recording to a file (R)")
        self.record_btn.setEnabled(False)
        self.record_btn.clicked.connect(self.toggle_record)
        row.addWidget(self.start_btn)
        row.addWidget(self.record_btn)
        bl.addLayout(row)
        self.record_note = QLabel("")
        self.record_note.setWordWrap(True)
        self.record_note.setObjectName("muted")
        bl.addWidget(self.record_note)
        lay.addWidget(box)

        cal = QGroupBox("Calibration")
        cl = QVBoxLayout(cal)
        self.cal_steps = QLabel(_cal_text(None))
        self.cal_steps.setWordWrap(True)
        self.cal_steps.setTextFormat(Qt.RichText)
        cl.addWidget(self.cal_steps)
        lay.addWidget(cal)
        lay.addStretch(1)

    # ------------------------------------------------------------------ finding sensors

    def scan(self) -> None:
        self.scan_btn.setEnabled(False)
        self.scan_note.setText("scanning for 4 s…")
        self._scan_future = self.win.pool.submit(_scan_real, 4.0)
        self._poll(self._scan_future, self._scan_done)

    def _poll(self, fut, done) -> None:
        from PySide6.QtCore import QTimer

        def check():
            if fut.done():
                done(fut)
            else:
                QTimer.singleShot(100, check)
        QTimer.singleShot(100, check)

    def _scan_done(self, fut) -> None:
        self.scan_btn.setEnabled(True)
        try:
            devices = fut.result()
        except Exception as exc:
            devices = []
            why = f"Bluetooth is not available here ({type(exc).__name__}: {exc})."
        else:
            why = "No supported sensors found."
        if not devices:
            self.scan_note.setText(why + " Try the virtual sensors: they stream a demo walk "
                                         "through the same code as real ones.")
            self.virtual_btn.setStyleSheet("font-weight: bold;")
            return
        self.show_devices(devices)

    def show_devices(self, devices: list[dict]) -> None:
        """Real sensors from a scan: the user gives each a placement, then Start."""
        self.virtual_rec = None
        self.devices = devices
        saved = self.win.settings.placements
        order = list(SENSOR_NAMES)
        self.assignment = {d["address"]: saved.get(d["address"], order[i % len(order)])
                           for i, d in enumerate(devices)}
        self.scan_note.setText(f"found {len(devices)} sensor(s). Give each its placement, then Start.")
        self.table.setRowCount(len(devices))
        for i, d in enumerate(devices):
            item = QTableWidgetItem(f"{i + 1}")
            item.setToolTip(f"{d['name']} ({d['profile']}, {d['address']})")
            self.table.setItem(i, 0, item)
            combo = QComboBox()
            combo.addItems(order)
            combo.setCurrentText(self.assignment[d["address"]])
            combo.currentTextChanged.connect(lambda text, a=d["address"]: self._assign_device(a, text))
            self.table.setCellWidget(i, 1, combo)
            for c in (2, 3):
                self.table.setItem(i, c, QTableWidgetItem("—"))
            self.table.setItem(i, 4, QTableWidgetItem(NO_BATTERY))
        self.start_btn.setEnabled(bool(devices))

    def _assign_device(self, address: str, placement: str) -> None:
        self.assignment[address] = placement
        self.win.settings.placements[address] = placement

    def use_virtual(self) -> None:
        """Make the demo walk (simulator, off the GUI thread) and list one virtual sensor per placement."""
        self.virtual_btn.setEnabled(False)
        self.scan_note.setText("preparing virtual sensors…")
        from .demo import demo_recording
        fut = self.win.pool.submit(demo_recording, LIVE_DEMO_RATE_HZ)
        self._poll(fut, self._virtual_ready)

    def _virtual_ready(self, fut) -> None:
        self.virtual_btn.setEnabled(True)
        try:
            rec = fut.result()
        except Exception as exc:
            self.scan_note.setText(f"could not make the demo walk: {exc}")
            return
        self.set_virtual_recording(rec)

    def set_virtual_recording(self, rec) -> None:
        self.virtual_rec = rec
        self.devices = []
        names = list(rec.streams)
        saved = self.win.settings.placements
        self.assignment = {n: saved.get(f"virtual:{n}", n) for n in names}
        how = "over Bluetooth LE (virtual radio)" if ble_available() else "directly (BLE stack not installed)"
        self.scan_note.setText(f"{len(names)} virtual sensors ({self.win.settings.profile} protocol), "
                               f"streamed {how}. Check where each one sits, then Start.")
        self.table.setRowCount(len(names))
        for i, n in enumerate(names):
            self.table.setItem(i, 0, QTableWidgetItem(f"V{i + 1}"))
            combo = QComboBox()
            combo.addItems(list(SENSOR_NAMES))
            combo.setCurrentText(self.assignment[n])
            combo.currentTextChanged.connect(lambda text, name=n: self._assign(name, text))
            self.table.setCellWidget(i, 1, combo)
            for c in (2, 3):
                self.table.setItem(i, c, QTableWidgetItem("—"))
            self.table.setItem(i, 4, QTableWidgetItem(NO_BATTERY))
        self.start_btn.setEnabled(True)

    def _assign(self, name: str, placement: str) -> None:
        self.assignment[name] = placement
        self.win.settings.placements[f"virtual:{name}"] = placement

    # ------------------------------------------------------------------ running

    def running(self) -> bool:
        src = self.win.source
        return self.win.session_kind == "live" and src is not None and not src.source_finished

    def start_stop(self) -> None:
        if self.running():
            self.stop()
        else:
            self.start()

    def start(self) -> None:
        rec = self.virtual_rec
        if rec is None:
            if getattr(self, "devices", None):
                self._start_real()
            return
        placements = list(self.assignment.values())
        if len(set(placements)) != len(placements):
            self.scan_note.setText("Each placement may be used once: check the placements.")
            return
        w = self.win
        w.stop_session()
        w.show_error("")
        use_ble = ble_available()
        rates = {}
        for n, s in rec.streams.items():
            rates[self.assignment[n]] = (stream_rate_hz(w.settings.profile, s.rate_hz) if use_ble
                                         else s.rate_hz)
        session = w.start_session({
            "kind": "virtual" if use_ble else "paced", "recording": rec, "rates_hz": rates,
            "leg_length_m": w.leg_length_for(rec), "profile": w.settings.profile,
            "assignment": dict(self.assignment)})
        if session is not None:
            self._running(rates, [self.assignment[n] for n in rec.streams])

    def _start_real(self) -> None:
        placements = list(self.assignment.values())
        if len(set(placements)) != len(placements):
            self.scan_note.setText("Each placement may be used once: check the placements.")
            return
        w = self.win
        w.show_error("")
        devices = [dict(d, placement=self.assignment[d["address"]]) for d in self.devices]
        rates = {d["placement"]: stream_rate_hz(d["profile"], None) for d in devices}
        session = w.start_session({"kind": "ble", "devices": devices, "rates_hz": rates,
                                   "leg_length_m": w.leg_length_for(None)})
        if session is not None:
            self._running(rates, [d["placement"] for d in devices])

    def _running(self, rates: dict, placements: list[str]) -> None:
        """A live session has started: the panel shows it (placements in table order)."""
        self._rates = rates
        self.win.session_kind = "live"
        self.win.recording = None
        self.start_btn.setText("■ Stop")
        self.record_btn.setEnabled(True)
        self._rows = {p: i for i, p in enumerate(placements)}

    def stop(self) -> None:
        self.stop_recording()
        self.win.stop_session()      # the worker finishes the analysis and sends the last rows
        self.start_btn.setText("▶ Start")
        self.record_btn.setEnabled(False)

    def toggle_record(self) -> None:
        if self.recording_to is not None:
            self.stop_recording()
        elif self.running():
            RECORDINGS_DIR.mkdir(parents=True, exist_ok=True)
            path = RECORDINGS_DIR / f"session_{dt.datetime.now():%Y%m%d_%H%M%S}.csv"
            self.win.source.record(str(path))
            self.recording_to = path
            self.record_btn.setText("■ Stop recording")
            self.record_note.setText(f"recording to {path}")

    def stop_recording(self) -> None:
        path, self.recording_to = self.recording_to, None
        if path is not None and self.win.pipeline is not None:
            self.win.pipeline.record_stop()
            self.record_btn.setText("● Record")
            self.record_note.setText(f"saving {path}…")

    def show_recorded(self, path: str) -> None:
        """The worker closed the file: it is complete."""
        self.saved.append(path)
        self.record_note.setText(f"saved {path}")

    def shutdown(self) -> None:
        self.stop_recording()

    # ------------------------------------------------------------------ status (timer)

    def show_status(self, status: dict) -> None:
        src = self.win.source
        stats = src.sensor_stats() if src is not None and hasattr(src, "sensor_stats") else {}
        for placement, st in status.items():
            i = getattr(self, "_rows", {}).get(placement)
            if i is None:
                continue
            self.table.item(i, 2).setText(f"{st.measured_rate_hz:.0f}" if st.samples else "—")
            link = stats.get(placement, {})
            lost = link.get("lost_packets")
            lost_txt = f"{lost}" if lost is not None else "0"
            if st.gaps:
                lost_txt += f" +{st.gaps}"     # gaps (the tooltip says which is which)
            self.table.item(i, 3).setText(lost_txt)
            self.table.item(i, 3).setToolTip(f"{lost or 0} packets lost; {st.gaps} gaps, {st.lost_s:.1f} s without data")
            bat = link.get("battery_percent")
            self.table.item(i, 4).setText(f"{bat:.0f} %" if bat is not None else NO_BATTERY)
        self.cal_steps.setText(_cal_text(status))
        if src is not None and src.source_finished and self.start_btn.text().startswith("■"):
            self.start_btn.setText("▶ Start")
            self.stop_recording()
            self.record_btn.setEnabled(False)


def _cal_text(status: dict | None) -> str:
    """The guided calibration: what to do now, and the quality once each sensor is calibrated."""
    steps = ("<b>1.</b> Stand still for 3 seconds.<br><b>2.</b> Walk a few steps.<br>"
             "The analysis finds each sensor's axes from that (it may sit in any orientation).")
    if not status:
        return steps
    lines = []
    for name, st in status.items():
        q = st.calibration_quality
        if not st.calibration.startswith("calibrated"):
            still = "standing seen" if q.get("standing_s") else "stand still…"
            lines.append(f"○ <b>{name}</b>: {still} then walk a few steps")
            continue
        good = not st.calibration_flags
        mark = "✓" if good else "!"
        word = "good" if good else "check: " + ", ".join(st.calibration_flags)
        share = q.get("flexion_axis_share")
        detail = []
        if q.get("standing_s") is not None:
            detail.append(f"stood {q['standing_s']:.1f} s")
        if q.get("standing_still_dps") is not None:
            detail.append(f"stillness {q['standing_still_dps']:.1f} °/s")
        if share is not None:
            detail.append(f"swing axis {100 * share:.0f} %")
        lines.append(f"{mark} <b>{name}</b>: {word} ({', '.join(detail)})")
    return steps + "<br><br>" + "<br>".join(lines)


def _scan_real(timeout_s: float) -> list[dict]:
    """Real Bluetooth scan (bleak); supported devices only."""
    import asyncio

    from bleak import BleakScanner

    from imu_knee.commands.scan import match_profile

    async def go():
        found = await BleakScanner.discover(timeout_s, return_adv=True)
        out = []
        for dev, adv in found.values():
            prof = match_profile(adv.local_name, list(adv.service_uuids or []))
            if prof:
                out.append({"name": adv.local_name or dev.address, "address": dev.address, "profile": prof})
        return out

    return asyncio.run(go())
