"""Per-call cost of forward+backward with aot_eager relative to eager tensorlite.

Run: python benchmarks/aot.py   (also run by `make bench`)

The program is a small elementwise+reduction chain, `((x * y).sin() + x).tanh().sum()`,
differentiated w.r.t. x and y, on tiny (float32[2]) and on 1M-element inputs. Three ways:
eager tensorlite, `aot_function(fn, nop)` (the AOT runtime wrapper alone), and
`md.compile(fn, backend="aot_eager")` (Dynamo's guards plus the wrapper; default partitioner)
and the same with "aot_eager_min_cut" (recomputes the elementwise forward in the backward
instead of saving it: less memory, more time in an unfused runtime). Every time is the
minimum over interleaved repeats; ratios divide by the eager time measured in the same run.
Targets (issue 7): aot_eager within 2x of eager on tiny inputs, not slower on 1M elements.
"""
import os
import sys
import timeit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minidynamo as md  # noqa: E402
import tensorlite as tl  # noqa: E402
from backends.aot import aot_function, nop  # noqa: E402

TINY_TARGET = 2.0
BIG_TARGET = 1.0


def fn(x, y):
    return ((x * y).sin() + x).tanh().sum()


def best_of(fns, number, repeat):
    timers = [timeit.Timer(f) for f in fns]
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, t in enumerate(timers):
            best[i] = min(best[i], t.timeit(number) / number)
    return best


def step(f, x, y):
    def run():
        f(x, y).backward()
        x.grad = y.grad = None
    return run


def measure(n, number, repeat):
    tl.manual_seed(0)
    x = tl.randn(n, requires_grad=True)
    y = tl.randn(n, requires_grad=True)
    aot = aot_function(fn, nop)
    md.reset()
    dyn = md.compile(fn, backend="aot_eager")
    dyn_min_cut = md.compile(lambda a, b: fn(a, b), backend="aot_eager_min_cut")
    for f in (aot, dyn, dyn_min_cut):  # compile, and check the gradients against eager once
        f(x, y).backward()
        g = (x.grad, y.grad)
        x.grad = y.grad = None
        fn(x, y).backward()
        assert all(abs(a - b).max().item() < 1e-4 for a, b in zip(g, (x.grad, y.grad)))
        x.grad = y.grad = None
    return best_of([step(fn, x, y), step(aot, x, y), step(dyn, x, y), step(dyn_min_cut, x, y)],
                   number, repeat)


def main():
    ok = True
    for label, n, number, repeat, target in (("tiny float32[2]", 2, 2000, 7, TINY_TARGET),
                                             ("1M float32[1000000]", 1_000_000, 5, 11, BIG_TARGET)):
        eager, aot, dyn, dyn_min_cut = measure(n, number, repeat)
        print(f"{label}: eager {eager * 1e6:.1f} us; ratios to eager: aot_function(nop) {aot / eager:4.2f}x, "
              f"md.compile(aot_eager) {dyn / eager:4.2f}x, md.compile(aot_eager_min_cut) "
              f"{dyn_min_cut / eager:4.2f}x   (target for aot_eager <= {target:.1f}x)")
        ok &= dyn / eager <= target
    print("targets met" if ok else "TARGET MISSED")


if __name__ == "__main__":
    main()
