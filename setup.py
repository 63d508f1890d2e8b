"""Build the Cython kernels: every ``src/<name>.pyx`` becomes ``fastpen.<name>``."""
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent
SRC = HERE / "src"

extensions = [
    Extension(
        f"fastpen.{pyx.stem}",
        [str(pyx.relative_to(HERE))],
        include_dirs=[np.get_include()],
        # NDEBUG drops C asserts; -O3 lets gcc vectorize the sparse and weighted loops.
        extra_compile_args=["-O3"],
        define_macros=[("NDEBUG", None), ("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
    )
    for pyx in sorted(SRC.glob("*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        include_path=[str(SRC)],
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "nonecheck": False,
        },
    ),
)
