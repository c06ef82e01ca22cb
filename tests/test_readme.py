"""The README's examples are copy-paste examples: every command and every Python block runs as written."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
USES = README[README.index("## Three ways to use it"):README.index("## How the likelihood is built")]
BLOCKS = re.findall(r"```(bash|python)\n(.*?)```", USES, flags=re.S)
SHELL = [[line for line in body.splitlines() if line.strip()] for kind, body in BLOCKS if kind == "bash"]
PYTHON = [body for kind, body in BLOCKS if kind == "python"]


@pytest.fixture()
def workdir(tmp_path):
    """A fresh folder where the samples sit where the README says, so outputs land outside the repo."""
    (tmp_path / "sample_data").symlink_to(ROOT / "sample_data", target_is_directory=True)
    return tmp_path


def test_there_are_examples_for_all_three_uses():
    assert len(SHELL) >= 2 and sum(map(len, SHELL)) >= 5 and len(PYTHON) >= 2


@pytest.mark.parametrize("index", range(len(SHELL)))
def test_readme_commands_run_in_order(index, workdir):
    for command in SHELL[index]:  # a block's commands build on each other
        argv = shlex.split(command)
        assert argv[0] == "assessor"
        done = subprocess.run([sys.executable, "-m", "assessor", *argv[1:]], cwd=workdir, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, f"{command}: {done.stderr}"
        assert "Traceback" not in done.stderr
        if "-o" in argv:
            out = workdir / argv[argv.index("-o") + 1]
            assert out.is_file() and out.stat().st_size > 0, command


@pytest.mark.parametrize("index", range(len(PYTHON)))
def test_readme_python_runs(index, workdir):
    done = subprocess.run([sys.executable, "-c", PYTHON[index]], cwd=workdir, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
