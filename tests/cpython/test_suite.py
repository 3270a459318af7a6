"""The fast slice of CPython's own test suite under md.compile (issue #18), run by `make test`.

Each module of tests.cpython.modules.FAST runs in a worker subprocess (tests/cpython/runner.py):
every test that passes plainly must pass compiled too. `make cpython-suite` runs all modules
on every supported Python and prints the table.
"""
import pytest

from .modules import FAST
from .runner import run_module


@pytest.mark.parametrize("module", FAST)
def test_module_compiled_as_plainly(module):
    report = run_module(module, timeout=60.0)
    assert report.load_error is None, report.load_error
    assert report.passing_plainly > 0, f"{module}: no test passed plainly"
    bad = "\n\n".join(f"{outcome.upper()} {test}\n{report.details.get(test, '')}"
                      for test, outcome in sorted(report.bad.items()))
    assert not report.bad, bad
