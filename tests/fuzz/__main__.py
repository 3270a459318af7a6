"""`python -m tests.fuzz --seconds 600 [--start 0] [--guards] [--programs N]`: generate and check programs until
the time is up; print the count and every mismatch (with its minimised program)."""
import argparse
import sys
import time

from .generator import RandomDraw, generate
from .harness import check
from .minimize import minimize


def one(seed, guards):
    import random
    p = generate(RandomDraw(seed), guard_mode=guards)
    mutation = None
    if guards:
        ns = {}
        exec(compile(p.source, "<fuzz>", "exec"), ns)  # noqa: S102
        mutation = random.Random(seed).choice(ns["MUTATIONS"])
    try:
        return p, mutation, check(p, mutation=mutation)
    except Exception as e:  # noqa: BLE001  (a crash of the harness or of minidynamo)
        return p, mutation, f"CRASH {type(e).__name__}: {e}"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--start", type=int, default=None, help="first seed (default: from the clock)")
    ap.add_argument("--guards", action="store_true", help="mutate one dependency between the two calls")
    ap.add_argument("--programs", type=int, default=None, help="stop after this many programs")
    ap.add_argument("--no-minimize", action="store_true")
    a = ap.parse_args(argv)
    seed = a.start if a.start is not None else int(time.time()) % 10_000_000 * 1000
    t0 = time.time()
    n = bad = 0
    while time.time() - t0 < a.seconds and (a.programs is None or n < a.programs):
        for guards in ([a.guards] if a.guards else [False, True]):
            p, mutation, report = one(seed, guards)
            n += 1
            if report:
                bad += 1
                print(f"=== MISMATCH seed={seed} guards={guards} mutation={mutation!r}\n{report[:2000]}", flush=True)
                if not a.no_minimize and not report.startswith("CRASH"):
                    try:
                        print(minimize(p.source) if mutation is None else p.source, flush=True)
                    except Exception as e:  # noqa: BLE001
                        print(f"(minimise failed: {e})")
        seed += 1
        if n % 500 < 2:
            print(f"... {n} programs, {bad} mismatches, {time.time() - t0:.0f}s", flush=True)
    print(f"fuzz: {n} programs x {len(__import__('backends').list_backends())} backends in "
          f"{time.time() - t0:.0f}s, {bad} mismatches (seeds up to {seed})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
