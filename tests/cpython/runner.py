"""Run CPython's own test modules with every test method under md.compile; print a table.

    python -m tests.cpython.runner [MODULE ...] [--timeout S] [--jobs N] [--show wrong,crash]

Each module runs in a worker subprocess (tests/cpython/worker.py). A test that hangs past the
timeout, or kills the worker (a segfault), is recorded as such and the module goes on in a new
worker from the next test. Outcomes per test: ok, wrong (passes plainly, fails an assertion
compiled), crash (passes plainly, raises compiled), hang or segfault (the worker timed out or
died), excluded (fails or skips plainly), differs (fails compiled for a reason listed in
modules.DIFFERENCES and docs/differences.md).
"""
import argparse
import collections
import concurrent.futures
import json
import os
import select
import subprocess
import sys
import time

from . import modules as module_lists

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BAD = ("wrong", "crash", "hang", "segfault")
SLOWDOWN = 10  # a compiled run may take this many times the plain run before it is a hang


class ModuleReport:
    """What running one module gave: test outcomes, frame counts and break reasons."""

    def __init__(self, name):
        self.name = name
        self.outcomes = {}          # test id -> outcome
        self.details = {}           # test id -> detail text (wrong, crash, hang, segfault)
        self.frames = collections.Counter()   # end / broke / eager
        self.reasons = collections.Counter()  # why frames broke or ran eagerly
        self.load_error = None

    def count(self, outcome):
        return sum(1 for o in self.outcomes.values() if o == outcome)

    @property
    def passing_plainly(self):
        return sum(1 for o in self.outcomes.values() if o != "excluded")

    @property
    def bad(self):
        return {t: o for t, o in self.outcomes.items() if o in BAD}

    def traced_share(self):
        total = sum(self.frames.values())
        return f"{self.frames['end']}/{total}" if total else "0/0"


def _read_events(proc, fd, timeout):
    """Yield (event or None on timeout) from the worker's pipe until it closes; timeout is
    a one-item list, so the reader may change it between events."""
    buf = b""
    while True:
        ready, _, _ = select.select([fd], [], [], timeout[0])
        if not ready:
            yield None
            return
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield json.loads(line)


def _run_worker(report, module, timeout, after, only, python):
    """Run one worker until it finishes or a test hangs/dies; the id to resume after, or None."""
    r, w = os.pipe()
    cmd = [python, "-m", "tests.cpython.worker", module, str(w)]
    if after:
        cmd += ["--after", after]
    if only:
        cmd += ["--only", only]
    env = dict(os.environ, PYTHONFAULTHANDLER="1")
    proc = subprocess.Popen(cmd, cwd=ROOT, pass_fds=(w,), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    os.close(w)
    current = None
    wait = [timeout]
    try:
        for ev in _read_events(proc, r, wait):
            if ev is None:
                proc.kill()
                report.outcomes[current] = "hang"
                report.details[current] = f"no result after {wait[0]:.0f} s"
                return current
            if "start" in ev:
                current = ev["start"]
                wait[0] = timeout
            elif "plain_seconds" in ev:  # a slow test gets SLOWDOWN times its plain time
                wait[0] = max(timeout, SLOWDOWN * ev["plain_seconds"])
            elif "test" in ev:
                report.outcomes[ev["test"]] = ev["outcome"]
                if ev["outcome"] in BAD:
                    report.details[ev["test"]] = ev["detail"]
                current = None
            elif "frames" in ev:
                report.frames.update(ev["frames"])
                report.reasons.update(ev["reasons"])
            elif "load_error" in ev:
                report.load_error = ev["load_error"]
    finally:
        os.close(r)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    if current is not None:  # the worker died inside a test
        report.outcomes[current] = "segfault" if proc.returncode < 0 else "crash"
        report.details[current] = f"worker exited with {proc.returncode}\n" + err.decode(errors="replace")[-3000:]
        return current
    return None


def run_module(module, timeout=60.0, only=None, python=sys.executable):
    """Run every test of test.<module> plainly and compiled; a ModuleReport."""
    report = ModuleReport(module)
    after = None
    while True:
        after = _run_worker(report, module, timeout, after, only, python)
        if after is None:
            return report


def table(reports):
    """The summary table: one row per module, then a total."""
    head = ("module", "passing plainly", "ok", "wrong", "crash", "hang/segfault", "traced to the end")
    rows = []
    for r in reports:
        rows.append((r.name + (" (load error)" if r.load_error else ""), r.passing_plainly, r.count("ok"),
                     r.count("wrong"), r.count("crash"), r.count("hang") + r.count("segfault"),
                     r.traced_share()))
    tot = [sum(row[i] for row in rows) for i in range(1, 6)]
    end = sum(r.frames["end"] for r in reports)
    frames = sum(sum(r.frames.values()) for r in reports)
    rows.append(("total", *tot, f"{end}/{frames}"))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = " | ".join("{:<%d}" % w for w in widths)
    lines = [fmt.format(*head), "-+-".join("-" * w for w in widths)]
    lines += [fmt.format(*map(str, row)) for row in rows]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("modules", nargs="*")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per test")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--fast", action="store_true", help="the fast slice that make test runs")
    ap.add_argument("--only", default=None, help="only tests whose id contains this")
    ap.add_argument("--show", default="wrong,crash,hang,segfault", help="outcomes to list in detail")
    ap.add_argument("--reasons", type=int, default=3, help="top break reasons per module")
    args = ap.parse_args(argv)
    mods = args.modules or (module_lists.FAST if args.fast else module_lists.ALL)
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        reports = list(pool.map(lambda m: run_module(m, args.timeout, args.only), mods))
    show = set(args.show.split(",")) if args.show else set()
    for r in reports:
        if r.load_error:
            print(f"== {r.name}: could not load\n{r.load_error}")
        for test, outcome in r.outcomes.items():
            if outcome in show:
                print(f"== {outcome.upper()} {test}\n{r.details.get(test, '')}\n")
    print(f"Python {sys.version.split()[0]}, {time.time() - t0:.0f} s")
    print(table(reports))
    for r in reports:
        for test, outcome in r.outcomes.items():
            if outcome == "differs":
                print(f"documented difference (docs/differences.md), not counted as ok: {test}")
    if args.reasons:
        print("\ntop break reasons (frames that broke or ran eagerly):")
        for r in reports:
            for why, n in r.reasons.most_common(args.reasons):
                print(f"  {r.name}: {n} x {why}")
    return 1 if any(r.bad or r.load_error for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
