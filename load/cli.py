"""`lutra bench`: the load harness from the lutra command."""

from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser("bench", help="run the load harness (see load/bench.py)", add_help=False)
    p.set_defaults(func=lambda args: __import__("load.bench", fromlist=["main"]).main(args.rest))
    p.add_argument("rest", nargs="*")
