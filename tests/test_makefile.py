"""The Makefile's setup (issue 25): it picks the first supported Python it finds, says in one
line when there is none, and keeps a venv the user made with the guide's recipe."""
import os
import shutil
import stat
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(*args):
    return subprocess.run(["make", "-s", "-C", ROOT, *args], capture_output=True, text=True, timeout=120)


def test_picks_a_supported_python():
    r = make("which-python")
    version, path = r.stdout.split()
    assert version in ("3.11", "3.12", "3.13") and os.path.exists(path)


def test_missing_python_is_one_clear_line(tmp_path):
    venv = tmp_path / "venv"
    r = make(f"VENV={venv}", "PYVER=3.99", f"{venv}/.installed")
    assert r.returncode != 0
    assert r.stderr.splitlines()[0] == (
        "make: no Python 3.99 found (pyenv or python3.99 on PATH); set PYVER=3.11, 3.12 or 3.13")
    assert not venv.exists()


def test_a_venv_made_without_make_is_kept(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "mine.txt").write_text("the user's")
    log = tmp_path / "calls"
    fake = venv / "bin" / "python"  # records what make asks of the venv's Python
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    r = make(f"VENV={venv}", f"{venv}/.installed")
    assert r.returncode == 0, r.stderr
    assert (venv / "mine.txt").read_text() == "the user's"
    assert "a venv made without make (kept)" in r.stdout
    assert "-m pip install -q -e .[dev]" in log.read_text()
