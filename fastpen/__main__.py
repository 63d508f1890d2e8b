"""``python -m fastpen`` (and the ``fastpen`` console script): see :mod:`fastpen._cli`."""
import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
