"""The main job (`make demo`, `python -m minidynamo demo [--quick]`).

Trains a small MLP on synthetic data with a tensor hook (gradient clipping through a hook)
and a module forward hook, first eagerly and then compiled with each backend, and prints
for each backend: agreement of the loss curve with eager, graphs and breaks, the guards of
the first entry, the recompile reason after a shape change, and a timing table.
"""
import os
import sys
import tempfile
import time

import backends
import minidynamo as md
import tensorlite as tl


class MLP(tl.nn.Module):
    def __init__(self, d_in=8, d_hidden=32, d_out=1):
        super().__init__()
        self.fc1 = tl.nn.Linear(d_in, d_hidden)
        self.act = tl.nn.GELU()
        self.fc2 = tl.nn.Linear(d_hidden, d_out)

    def forward(self, x):
        h = self.act(self.fc1(x))
        h.register_hook(lambda g: g.clamp(-0.05, 0.05))  # gradient clipping through a hook
        return self.fc2(h)


def make_data(n=64, d=8, seed=0):
    tl.manual_seed(seed)
    x = tl.randn(n, d)
    w = tl.randn(d, 1)
    y = (x @ w).sin() + 0.1 * tl.randn(n, 1)
    return x, y


def make_model(seed=1):
    tl.manual_seed(seed)
    m = MLP()
    m.register_forward_hook(lambda mod, args, out: out * 1.0)  # a module forward hook
    return m


def train_step_fn(model):
    def step(x, y):
        pred = model(x)
        return tl.nn.functional.mse_loss(pred, y)
    return step


def progress(i, n, label, width=30):
    done = int(width * (i + 1) / n)
    sys.stdout.write(f"\r  {label:<10} [{'#' * done}{'.' * (width - done)}] {i + 1}/{n}")
    sys.stdout.flush()
    if i + 1 == n:
        sys.stdout.write("\n")


def train(backend, steps, x, y):
    model = make_model()
    opt = tl.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    step = train_step_fn(model)
    fn = step if backend is None else md.compile(step, backend=backend)
    losses, times = [], []
    for i in range(steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = fn(x, y)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
        losses.append(loss.item())
        progress(i, steps, backend or "eager")
    steady = sorted(times[3:] or times)
    return losses, steady[len(steady) // 2], fn


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    quick = "--quick" in argv
    steps = 20 if quick else 200
    x, y = make_data()
    names = [b for b in ("eager", "aot_eager", "codegen") if b in backends.list_backends()]
    print(f"minidynamo demo: MLP 8-32-1 on {x.shape[0]} samples, {steps} SGD steps, backends: {', '.join(names)}\n")
    md.reset()
    ref, t_eager, _ = train(None, steps, x, y)
    print(f"  eager tensorlite: loss {ref[0]:.4f} -> {ref[-1]:.4f}\n")
    rows = []
    for name in names:
        md.reset()
        losses, t, fn = train(name, steps, x, y)
        diff = max(abs(a - b) for a, b in zip(losses, ref))
        cache = md.inspect(fn)
        ex = md.explain(train_step_fn(make_model()))(x, y)
        print(f"  backend {name!r}: max |loss - eager| = {diff:.2e} "
              f"({'agrees' if diff < 1e-4 else 'DIFFERS'}), graphs: {ex.graph_count}, breaks: {ex.graph_break_count}")
        if cache.entries:
            print("  guards of the first entry:")
            for g in cache.entries[-1].guards[:8]:
                print(f"    {g}")
            if len(cache.entries[-1].guards) > 8:
                print(f"    ... ({len(cache.entries[-1].guards) - 8} more)")
        fn(x[:32], y[:32])  # a new batch size: recompiles (or reuses a dynamic entry)
        if cache.recompile_reasons:
            print(f"  recompile reason after a shape change: {cache.recompile_reasons[-1]}")
        rows.append((name, t))
        print()
    print("  timing (median training step after warm-up, ratio to eager tensorlite; lower is faster):")
    print(f"    {'tensorlite':<10} 1.00x  ({t_eager * 1e3:.2f} ms/step)")
    for name, t in rows:
        print(f"    {name:<10} {t / t_eager:.2f}x  ({t * 1e3:.2f} ms/step)")
    path = os.path.join(os.environ.get("MINIDYNAMO_REPORT") or tempfile.gettempdir(), "minidynamo_report.html")
    md.report(path)
    print(f"\n  compile report written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
