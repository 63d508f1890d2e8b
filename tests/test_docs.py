"""The examples in the public docstrings run and print what they say."""
import doctest
import importlib

import pytest


@pytest.mark.parametrize("module", ["fastpen._elastic_net", "fastpen._ridge", "fastpen._cv",
                                    "fastpen._path", "fastpen._stability", "fastpen._plot"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module),
                             optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0
