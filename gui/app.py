"""Start the dashboard: ``main(args)`` from ``imu-knee dashboard``."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

SCREENSHOT_DEFAULT_S = 5.0


def main(args) -> int:
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=False)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from .main_window import MainWindow

    win = MainWindow(theme_name=args.theme)
    w, h = getattr(args, "size_px", (1600, 1000))
    win.resize(w, h)
    win.show()
    if args.replay is not None:
        win.open_recording(str(args.replay), speed=args.speed)
    if args.view == "live" or args.virtual:
        win.set_mode("live")
        if args.virtual:
            win.live_panel.use_virtual()
            _start_when_ready(win)
    quit_after = args.quit_after
    if args.screenshot is not None and quit_after is None:
        quit_after = SCREENSHOT_DEFAULT_S
    status = {"code": 0}
    if quit_after is not None:
        def finish():
            if args.view == "review":
                win.set_mode("review")
                app.processEvents()
            if args.screenshot is not None:
                if not win.grab().save(str(args.screenshot)):
                    print(f"imu-knee: could not save {args.screenshot}", file=sys.stderr)
                    status["code"] = 1
                else:
                    print(f"wrote {args.screenshot}")
            win.close()
            app.quit()
        QTimer.singleShot(int(quit_after * 1000), finish)
    app.exec()
    return status["code"]


def _start_when_ready(win) -> None:
    def check():
        if win.live_panel.virtual_rec is not None:
            win.live_panel.start()
        else:
            QTimer.singleShot(100, check)
    QTimer.singleShot(100, check)
