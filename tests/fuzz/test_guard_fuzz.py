"""Guard soundness fuzzing: after a compiled call, mutate one thing the program depends on (a
global, a closure cell, an attribute, a list length, a dtype, a shape, requires_grad, grad mode, a
module's training flag or hooks, a dict key, a Python int argument) and check the next call still
matches eager, for every backend."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidynamo as md

from .generator import RandomDraw, generate, programs
from .harness import check

SETTINGS = settings(max_examples=80, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def mutations_of(prog):
    ns = {}
    exec(compile(prog.source, "<fuzz>", "exec"), ns)  # noqa: S102
    return ns["MUTATIONS"]


@SETTINGS
@given(programs(guard_mode=True), st.integers(0, 10_000))
def test_mutation_between_calls_matches_eager(prog, k):
    muts = mutations_of(prog)
    mutation = muts[k % len(muts)]
    md.reset()
    report = check(prog, mutation=mutation)
    assert report is None, f"{report}\n--- mutation: {mutation}\n--- program ---\n{prog.source}"


def test_every_mutation_on_one_program():
    prog = generate(RandomDraw(11), guard_mode=True)
    for mutation in mutations_of(prog):
        md.reset()
        report = check(prog, mutation=mutation)
        assert report is None, f"{report}\n--- mutation: {mutation}\n--- program ---\n{prog.source}"
