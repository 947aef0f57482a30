"""The ``imu-knee`` command: one entry point, a sub-command per job.

Exit codes (DESIGN.md section 3): 0 done; 2 bad input or usage (one line on stderr, no
traceback); 1 internal error. Each sub-command lives in ``imu_knee.commands.<name>`` with
``add_arguments(parser)`` and ``run(args) -> int``; modules are imported only when used.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .errors import InputError

COMMANDS = {
    "analyze": "measure every step of a recording (steps CSV + summary JSON)",
    "report": "write an HTML (and PDF) report of a recording",
    "replay": "replay a recording through the live engine",
    "record": "record Bluetooth sensors to a recording file",
    "scan": "list nearby supported Bluetooth sensors",
    "live": "record and analyse sensors live (or a virtual sensor)",
    "dashboard": "open the Qt dashboard",
    "history": "list stored sessions and trends over weeks",
    "import": "convert another app's export into an imu-knee recording",
    "simulate": "make a synthetic recording with ground truth",
}
MODULE_OF = {"import": "import_"}


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise InputError(f"{message} (see '{self.prog} --help')")


def _command_module(name: str):
    return importlib.import_module(f"imu_knee.commands.{MODULE_OF.get(name, name)}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="imu-knee", description="Gait and stair-landing coach from wearable IMUs.")
    parser.add_argument("--version", action="version", version=f"imu-knee {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or only == name:
            _command_module(name).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        wanted = next((a for a in argv if a in COMMANDS), None)
        args = build_parser(only=wanted).parse_args(argv)
        if not args.command:
            build_parser(only="").print_help()
            return 2
        return int(_command_module(args.command).run(args) or 0)
    except InputError as exc:
        print(f"imu-knee: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("imu-knee: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # internal error: one line, no traceback unless asked
        import os
        if os.environ.get("IMU_KNEE_DEBUG"):
            raise
        print(f"imu-knee: internal error: {type(exc).__name__}: {exc}"
              " (set IMU_KNEE_DEBUG=1 for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
