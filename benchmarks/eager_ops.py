"""Per-op eager overhead of tensorlite on tiny tensors, as a ratio to the same numpy call.

Run: python benchmarks/eager_ops.py   (also run by `make bench`)

Every op runs on float32[2] tensors (matmul: [2, 2] @ [2]); each time is the minimum over
several timeit repeats, and each ratio divides by the numpy call timed in the same run.
Targets (issue 2): no-grad at most 6x numpy; requires_grad (forward + node creation) at
most 12x numpy.
"""
import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorlite as tl  # noqa: E402

NOGRAD_TARGET = 6.0
GRAD_TARGET = 12.0


def best_of(fns, number, repeat=9):
    """Min time per call of each fn; the fns are timed in turn within every repeat so that a
    noisy neighbour slows all of them alike."""
    timers = [timeit.Timer(f) for f in fns]
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, t in enumerate(timers):
            best[i] = min(best[i], t.timeit(number) / number)
    return best


def main():
    a = np.array([0.5, 1.5], np.float32)
    b = np.array([2.0, -1.0], np.float32)
    m = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    x, y, w = tl.from_numpy(a.copy()), tl.from_numpy(b.copy()), tl.from_numpy(m.copy())
    xg = tl.tensor(a, requires_grad=True)
    yg = tl.tensor(b, requires_grad=True)
    wg = tl.tensor(m, requires_grad=True)

    ops = [
        ("add", lambda: np.add(a, b), lambda: x + y, lambda: xg + yg),
        ("mul", lambda: np.multiply(a, b), lambda: x * y, lambda: xg * yg),
        ("sin", lambda: np.sin(a), lambda: x.sin(), lambda: xg.sin()),
        ("matmul", lambda: np.matmul(m, a), lambda: w @ x, lambda: wg @ xg),
        ("sum", lambda: np.sum(a), lambda: x.sum(), lambda: xg.sum()),
    ]
    number = 10000
    rows = []
    for name, f_np, f_tl, f_rg in ops:
        t_np, t_tl, t_rg = best_of((f_np, f_tl, f_rg), number)
        rows.append((name, t_np, t_tl, t_rg))

    print(f"{'op':8} {'numpy us':>9} {'no-grad us':>11} {'ratio':>6} {'rg us':>8} {'ratio':>6}")
    worst_ng = worst_rg = 0.0
    for name, t_np, t_tl, t_rg in rows:
        r_ng, r_rg = t_tl / t_np, t_rg / t_np
        worst_ng, worst_rg = max(worst_ng, r_ng), max(worst_rg, r_rg)
        print(f"{name:8} {t_np * 1e6:9.2f} {t_tl * 1e6:11.2f} {r_ng:5.1f}x {t_rg * 1e6:8.2f} {r_rg:5.1f}x")
    ok_ng = "ok" if worst_ng <= NOGRAD_TARGET else "OVER"
    ok_rg = "ok" if worst_rg <= GRAD_TARGET else "OVER"
    print(f"worst no-grad {worst_ng:.1f}x (target {NOGRAD_TARGET:g}x, {ok_ng}); "
          f"worst requires_grad {worst_rg:.1f}x (target {GRAD_TARGET:g}x, {ok_rg})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
