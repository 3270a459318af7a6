"""fxlite.symbolic: canonical forms of symbolic sizes, and their printing as PyTorch prints them
(the expected strings are what sympy prints for the same expressions in PyTorch 2.13)."""
import pytest

from fxlite.symbolic import (NotSymbolic, Rel, evaluate, exact_div, expand_floors, floordiv, mod, pycode,
                             subs, sym_max, sym_min, symbol)

s0, s1, s2, s10 = (symbol(n) for n in ("s0", "s1", "s2", "s10"))

PRINTED = [
    (s0 - 1, "s0 - 1"), (s1 - s0, "-s0 + s1"), (s0 * s1, "s0*s1"), (s0 + s1 - 1, "s0 + s1 - 1"),
    (2 * s0 + 3 * s1 + 1, "2*s0 + 3*s1 + 1"), (s0 * s1 + s0 + 1, "s0*s1 + s0 + 1"), (s0 ** 2, "s0**2"),
    (s0 // 2, "(s0//2)"), (2 * (s0 // 2), "2*((s0//2))"), (s1 * (s0 // 2), "s1*((s0//2))"),
    (s0 // 2 + 1, "((s0//2)) + 1"), (s0 % 2, "Mod(s0, 2)"), (sym_min(s0, 3), "Min(3, s0)"),
    (sym_max(s0, s1), "Max(s0, s1)"), (sym_min(s0, 3) - 1, "Min(3, s0) - 1"), (s10 + s2, "s10 + s2"),
    (s0 * s10 * s2, "s0*s10*s2"), ((s0 + 1) // 2, "((s0 + 1)//2)"), ((s0 // 2) * (s1 // 2), "((s0//2))*((s1//2))"),
    (-s0, "-s0"), (3 - s0, "3 - s0"), ((s0 * s1) // 4, "((s0*s1)//4)"), (1 - s0, "1 - s0"), (-s0 - 1, "-s0 - 1"),
    (5 - 3 * s0, "5 - 3*s0"), (1 - s0 * s1, "-s0*s1 + 1"), (1 - s0 ** 2, "1 - s0**2"),
    (s0 - s0 // 2, "s0 - ((s0//2))"), (2 * (s0 % 2), "2*(Mod(s0, 2))"), (s0 % 2 + 1, "(Mod(s0, 2)) + 1"),
    ((s0 + 1) % 3, "Mod(s0 + 1, 3)"), (3 * ((2 * s0 + 1) // 4), "3*(((2*s0 + 1)//4))"),
    (s0 * (s1 % 2), "s0*(Mod(s1, 2))"), (sym_max(2, s0 - 1), "Max(2, s0 - 1)"),
    (sym_min(s0, s1) + s0, "s0 + Min(s0, s1)"), (s0 - 2 * s1 - 3, "s0 - 2*s1 - 3"), (1 - 2 * s0, "1 - 2*s0"),
    (s1 * s1 + s0, "s0 + s1**2"), (s0 * s1 * s1 + s0 * s0 * s1, "s0**2*s1 + s0*s1**2"),
]


@pytest.mark.parametrize("e, text", PRINTED, ids=[t for _, t in PRINTED])
def test_prints_as_sympy(e, text):
    assert str(e) == text


def test_canonical_forms_are_equal():
    assert 8 * s0 * s1 == s1 * s0 * 8
    assert (s0 + 1) * (s0 - 1) == s0 ** 2 - 1
    assert s0 - s0 == 0 and type(s0 - s0) is int
    assert (4 * s0 + 1) // 2 == 2 * s0  # 4*s0 // 2 + 1 // 2
    assert (2 * s0) // 4 == s0 // 2 and (s0 // 2) // 3 == s0 // 6
    assert (2 * s0) % 4 == 2 * (s0 % 2) and (s0 % 4) % 2 == s0 % 2


def test_division_by_sizes():
    assert exact_div(8 * s0 * s1, 2 * s0) == 4 * s1
    assert floordiv(s0 * s1, 2 * s0) == s1 // 2 and mod(s0 * s1, 2 * s0) == s0 * (s1 % 2)
    assert exact_div(2 * s0 + 2, s0 + 1) == 2
    with pytest.raises(NotSymbolic):
        floordiv(s1, s0)
    with pytest.raises(NotSymbolic):
        mod(s0, -2)


def test_evaluate_subs_and_floors():
    assert evaluate(s0 * s1 // 4 + s0 % 3, {"s0": 7, "s1": 3}) == 5 + 1
    assert subs(s0 * s1 + 1, {"s1": s0}) == s0 ** 2 + 1
    assert expand_floors(2 * s1 * (s0 // 2) - s0 * s1) == -s1 * (s0 % 2)
    assert Rel("<=", 2, s0).evaluate({"s0": 2}) and not Rel("==", s0 % 2, 0).evaluate({"s0": 3})


def test_python_code_reads_as_pytorch_guards():
    name = {"s0": "L['x'].size()[0]", "s1": "L['x'].size()[1]"}.__getitem__
    assert pycode(Rel("==", s0 % 2, 0), name) == "(L['x'].size()[0] % 2) == 0"
    assert pycode(Rel("!=", s0 // 2, s0), name) == "(L['x'].size()[0] // 2) != L['x'].size()[0]"
    assert pycode(Rel("<=", 2, s0), name) == "2 <= L['x'].size()[0]"
    assert pycode(2 * s1 + 1, name) == "2*L['x'].size()[1] + 1"
    assert pycode(sym_min(s0, 3), name) == "min(3, L['x'].size()[0])"
    assert eval(pycode(s0 * s1 // 4 - (s0 % 3), str), {"s0": 7, "s1": 3}) == 4
