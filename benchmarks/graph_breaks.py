"""The per-call cost one graph break adds, as a ratio to one numpy add on float32[2].

Run: python benchmarks/graph_breaks.py   (also run by `make bench`)

The same function is compiled twice (eager backend, float32[2] inputs): once as it is, once
with an `md.graph_break()` in the middle. The difference of their per-call times is what the
break costs: a second cache lookup (the resume function's guards), the generated code that
runs the unsupported call and passes the live values on, and a second graph call. Each time
is the minimum over repeats in which all the callables are timed in turn; the ratio divides
by a numpy add timed in the same run. Target (issue 5): at most 8x (PyTorch's break costs
about 26x on the same machine).
"""
import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minidynamo as md  # noqa: E402
import tensorlite as tl  # noqa: E402

TARGET = 8.0


def best_of(fns, number, repeat=15):
    timers = [timeit.Timer(f) for f in fns]
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, t in enumerate(timers):
            best[i] = min(best[i], t.timeit(number) / number)
    return best


def without_break(x, y):
    a = x + y
    b = a * 2
    return b - x


def with_break(x, y):
    a = x + y
    md.graph_break()
    b = a * 2
    return b - x


def main(number=2000):
    a = np.array([0.5, 1.5], np.float32)
    b = np.array([2.0, -1.0], np.float32)
    x, y = tl.from_numpy(a.copy()), tl.from_numpy(b.copy())
    plain = md.compile(without_break, backend="eager")
    broken = md.compile(with_break, backend="eager")
    assert np.allclose(plain(x, y).numpy(), broken(x, y).numpy())
    for _ in range(3):  # warm the caches
        plain(x, y), broken(x, y)
    np_add, t_plain, t_broken = best_of(
        [lambda: np.add(a, b), lambda: plain(x, y), lambda: broken(x, y)], number)
    cost = t_broken - t_plain
    ratio = cost / np_add
    print(f"numpy add (float32[2])       {np_add * 1e9:9.0f} ns")
    print(f"compiled, no break           {t_plain * 1e9:9.0f} ns")
    print(f"compiled, one graph break    {t_broken * 1e9:9.0f} ns")
    print(f"cost of the break            {cost * 1e9:9.0f} ns = {ratio:.1f}x numpy add "
          f"(target <= {TARGET:.0f}x) {'OK' if ratio <= TARGET else 'OVER'}")
    return ratio


if __name__ == "__main__":
    main()
