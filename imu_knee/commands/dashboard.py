"""`imu-knee dashboard [--replay REC.csv --speed X] [--screenshot OUT.png --quit-after S]`.

The Qt dashboard lives in the ``imu_knee_gui`` package (folder ``gui/``); this module only
parses the options and checks them, so that the core never imports Qt.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from ..errors import InputError


def add_arguments(parser) -> None:
    parser.add_argument("--replay", type=Path, metavar="REC.csv", default=None,
                        help="open this recording in replay mode")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help="replay speed, 0.25 to 16 (default 1)")
    parser.add_argument("--screenshot", type=Path, metavar="OUT.png", default=None,
                        help="save a picture of the window (after --quit-after seconds) and quit")
    parser.add_argument("--quit-after", type=float, default=None, metavar="S",
                        help="quit after S seconds (default with --screenshot: 5)")
    parser.add_argument("--view", choices=["replay", "review", "live"], default=None,
                        help="which page to show first (default: replay with --replay, else live)")
    parser.add_argument("--virtual", action="store_true",
                        help="live mode: start the virtual sensors at once (no hardware needed)")
    parser.add_argument("--theme", choices=["light", "dark"], default=None,
                        help="colour theme (default: the saved setting)")
    parser.add_argument("--size", default="1600x1000", metavar="WxH",
                        help="window size (default 1600x1000)")


def load_gui():
    """The ``imu_knee_gui`` package: installed, or the ``gui/`` folder of a source checkout."""
    try:
        return importlib.import_module("imu_knee_gui")
    except ModuleNotFoundError as exc:
        if exc.name != "imu_knee_gui":
            raise
    folder = Path(__file__).resolve().parents[2] / "gui"
    init = folder / "__init__.py"
    if not init.exists():
        raise InputError("the dashboard is not installed (pip install 'imu-knee[gui]')")
    spec = importlib.util.spec_from_file_location("imu_knee_gui", init,
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["imu_knee_gui"] = module
    spec.loader.exec_module(module)
    return module


def run(args) -> int:
    if not 0.25 <= args.speed <= 16:
        raise InputError(f"--speed {args.speed}: must be between 0.25 and 16")
    if args.quit_after is not None and not args.quit_after > 0:
        raise InputError(f"--quit-after {args.quit_after}: must be more than 0 seconds")
    if args.replay is not None and not args.replay.is_file():
        raise InputError(f"{args.replay}: no such file")
    if args.screenshot is not None:
        if args.screenshot.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            raise InputError(f"--screenshot {args.screenshot}: must end in .png or .jpg")
        if not args.screenshot.parent.exists():
            raise InputError(f"--screenshot: folder {args.screenshot.parent} does not exist")
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise InputError(f"--size {args.size}: expected WIDTHxHEIGHT, e.g. 1600x1000") from None
    args.size_px = (w, h)
    gui = load_gui()
    try:
        app = importlib.import_module(gui.__name__ + ".app")   # imports Qt (never done in imu_knee/)
        import pyqtgraph  # noqa: F401
    except ImportError as exc:
        raise InputError(f"the dashboard needs the GUI extra (pip install 'imu-knee[gui]'): {exc}") from None
    return app.main(args)
