"""`imu-knee scan`: not available yet."""

import argparse

from ._unavailable import not_available


def add_arguments(parser) -> None:
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="(not available yet)")


def run(args) -> int:
    raise not_available("scan")
