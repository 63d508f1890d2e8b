"""Fail unless the sdist given holds every file a build from it needs: the Cython
sources (setup.py builds whatever src/*.pyx it finds, so a missing one is silently
not built), the package, the tests' conftest.py and the license; and no generated C."""
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(sdist):
    with tarfile.open(sdist) as archive:
        names = {Path(*Path(name).parts[1:]).as_posix() for name in archive.getnames()}
    wanted = {p.relative_to(ROOT).as_posix() for pattern in
              ("src/*.pyx", "src/*.pxd", "fastpen/*.py", "tests/*.py")
              for p in ROOT.glob(pattern)}
    wanted |= {"setup.py", "pyproject.toml", "README.md", "LICENSE"}
    missing = sorted(wanted - names)
    generated = sorted(n for n in names if n.startswith("src/") and n.endswith(".c"))
    if missing or generated:
        sys.exit(f"{sdist}: missing {missing}; generated C files {generated}")
    print(f"{sdist}: {len(names)} files, every source present")


if __name__ == "__main__":
    main(sys.argv[1])
