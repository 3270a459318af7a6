"""One worker process of the CPython suite runner: runs one module's tests twice each.

Every `unittest.TestCase` test method of the module runs plainly, then (when that passed) as
``md.compile(bound_method, backend="eager")``, with ``md.reset()`` before each compiled run.
The worker writes one JSON line per event to the file descriptor it is given, so the parent
sees which test was running when the worker hung or died:

    {"start": test_id}
    {"plain_seconds": s}    (the compiled run may take several times that)
    {"test": test_id, "outcome": "ok" | "wrong" | "crash" | "excluded", "detail": "..."}
    {"frames": {"end": n, "broke": n, "eager": n}, "reasons": {reason: count}}   (last line)

Run by tests/cpython/runner.py; by hand: python -m tests.cpython.worker test_list 1
(``--after ID`` skips the tests up to and including ID, to resume after a dead test).
"""
import argparse
import collections
import importlib
import json
import os
import sys
import time
import traceback
import unittest

from .modules import DIFFERENCES

OUTCOMES = ("ok", "wrong", "crash", "excluded", "differs")  # differs: modules.DIFFERENCES


class FrameTally:
    """Counts converted frames by how they ended, and why frames broke or fell back."""

    def __init__(self):
        self.frames = collections.Counter()
        self.reasons = collections.Counter()

    def __call__(self, fn, result):
        if result.entry is not None and result.break_reason is None:
            self.frames["end"] += 1
            return
        self.frames["broke" if result.entry is not None else "eager"] += 1
        if result.break_reason:
            self.reasons[_short(result.break_reason)] += 1


def _short(text, limit=120):
    line = str(text).splitlines()[0] if str(text) else ""
    return line if len(line) <= limit else line[:limit - 3] + "..."


def iter_cases(suite):
    """The TestCase instances of a (nested) suite, in order."""
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_cases(t)
        else:
            yield t


def _run_once(case, method):
    """Run case with its test method replaced by method (None: the plain one); a TestResult."""
    result = unittest.TestResult()
    name = case._testMethodName
    if method is not None:
        setattr(case, name, method)
    try:
        unittest.TestCase.run(case, result)
    finally:
        if method is not None:
            try:
                delattr(case, name)
            except AttributeError:
                pass
    return result


def _problem(result):
    """('fail' | 'error' | 'skip' | None, text) of a one-test result."""
    if result.failures:
        return "fail", result.failures[0][1]
    if result.errors:
        return "error", result.errors[0][1]
    if result.unexpectedSuccesses:
        return "fail", "unexpected success"
    if result.skipped:
        return "skip", result.skipped[0][1]
    return None, ""


def run_case(case, md, emit=lambda **kw: None):
    """The outcome of one test: (outcome, detail). Tells emit how long the plain run took."""
    t0 = time.perf_counter()
    plain, text = _problem(_run_once(case, None))
    emit(plain_seconds=time.perf_counter() - t0)
    if plain is not None:
        return "excluded", f"{plain} plainly: {_short(text.strip().splitlines()[-1] if text else '')}"
    md.reset()
    bound = getattr(case, case._testMethodName)
    compiled = md.compile(bound, backend="eager")
    try:
        kind, text = _problem(_run_once(case, compiled))
    finally:
        md.reset()
    if kind is None:
        return "ok", ""
    if case.id() in DIFFERENCES:
        return "differs", DIFFERENCES[case.id()]
    if kind == "skip":
        return "excluded", "skipped when compiled: " + _short(text)
    last = text.strip().splitlines()[-1] if text.strip() else ""
    again, _ = _problem(_run_once(case, None))  # a flaky test fails plainly too: excluded
    if again is not None:
        return "excluded", "flaky plainly"
    return ("wrong" if kind == "fail" else "crash"), _short(last, 400) + "\n" + text[-4000:]


class Fixtures:
    """Class and module set-up around tests run one by one, as a TestSuite would do it."""

    def __init__(self):
        self.cls = None
        self.module = None
        self.failed = None  # why the current class could not be set up

    def enter(self, case):
        cls = type(case)
        if cls is self.cls:
            return self.failed
        self.leave_class()
        if cls.__module__ != self.module:
            self.leave_module()
            self.module = cls.__module__
            self._call(sys.modules.get(self.module), "setUpModule")
        self.cls = cls
        self.failed = self._call(cls, "setUpClass")
        return self.failed

    def leave_class(self):
        if self.cls is not None and self.failed is None:
            self._call(self.cls, "tearDownClass")
            try:
                self.cls.doClassCleanups()
            except Exception:  # noqa: BLE001
                pass
        self.cls = None

    def leave_module(self):
        if self.module is not None:
            self._call(sys.modules.get(self.module), "tearDownModule")
            try:
                unittest.case.doModuleCleanups()
            except Exception:  # noqa: BLE001
                pass
        self.module = None

    @staticmethod
    def _call(owner, name):
        fn = getattr(owner, name, None)
        if fn is None:
            return None
        try:
            fn()
        except unittest.SkipTest as e:
            return f"skipped: {e}"
        except Exception as e:  # noqa: BLE001
            return f"{name} failed: {type(e).__name__}: {e}"
        return None


def _load(module_name):
    module = importlib.import_module(f"test.{module_name}")
    loader = unittest.TestLoader()
    return list(iter_cases(loader.loadTestsFromModule(module)))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("module")
    ap.add_argument("fd", type=int)
    ap.add_argument("--after", default=None)
    ap.add_argument("--only", default=None, help="run only the tests whose id contains this")
    args = ap.parse_args(argv)
    out = os.fdopen(args.fd, "w", buffering=1)

    def emit(**kw):
        out.write(json.dumps(kw) + "\n")
        out.flush()

    import minidynamo as md
    from minidynamo import convert_frame
    tally = FrameTally()
    convert_frame.OBSERVERS.append(tally)
    try:
        cases = _load(args.module)
    except Exception:
        emit(load_error=traceback.format_exc()[-2000:])
        return 1
    ids = [c.id() for c in cases]
    if args.after is not None and args.after in ids:
        cases = cases[ids.index(args.after) + 1:]
    if args.only:
        cases = [c for c in cases if args.only in c.id()]
    fixtures = Fixtures()
    for case in cases:
        emit(start=case.id())
        try:
            why = fixtures.enter(case)
            outcome, detail = ("excluded", why) if why else run_case(case, md, emit)
        except BaseException as e:  # noqa: BLE001 - anything a test leaks is that test's crash
            outcome, detail = "crash", f"runner: {type(e).__name__}: {e}"
        emit(test=case.id(), outcome=outcome, detail=detail)
    fixtures.leave_class()
    fixtures.leave_module()
    emit(frames=dict(tally.frames), reasons=dict(tally.reasons))
    return 0


if __name__ == "__main__":
    sys.exit(main())
