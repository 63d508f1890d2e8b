"""Command line: ``python -m fastpen demo`` (or the ``fastpen`` console script)."""
import argparse
import sys


def main(argv=None):
    """Entry point of the ``fastpen`` command."""
    parser = argparse.ArgumentParser(prog="fastpen", description="Fast penalized linear regression.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="fit Lasso on built-in data next to scikit-learn")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        run_demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
