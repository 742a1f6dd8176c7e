"""The README's commands, run in their order in a fresh folder: each one works and none
of them loses what an earlier one wrote."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cases import snapshot

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[list[str]]:
    """Every `constriction ...` line of the README's code blocks that names real files,
    with [optional] parts left out."""
    commands, language = [], None
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("```"):
            language = None if language is not None else line[3:].strip()
            continue
        if language not in ("", "bash"):
            continue  # prose, or a TOML / Python block
        line = line.split("#")[0].strip().removeprefix("$ ")
        if not line.startswith("constriction ") and "&& constriction " not in line:
            continue
        line = re.sub(r"\s*\[[^\]]*\]", "", line[line.index("constriction "):])
        if re.search(r"\b[A-Z_]{3,}\b|SPEC|bad\.toml", line):
            continue  # a placeholder (SPEC.toml, DIR, MEASURED) or a deliberately bad example
        commands.append(shlex.split(line))
    return commands


def test_the_readme_has_the_commands_this_test_runs():
    names = [" ".join(c[:3]) for c in readme_commands()]
    assert names[0] == "constriction run specs/single_spot.toml"
    assert any(n.startswith("constriction study run") for n in names)
    assert any(n.startswith("constriction study table") for n in names)


@pytest.mark.slow
def test_readme_commands_in_order_lose_nothing(tmp_path):
    for folder in ("specs", "studies"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    kept = {}
    for command in readme_commands():
        exe = [sys.executable, "-m", "constriction", *command[1:]]
        if command[1:3] == ["study", "run"]:
            exe.append("--serial")
        done = subprocess.run(exe, cwd=tmp_path, capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, (command, done.stderr[-2000:])
        now = snapshot(tmp_path / "results")
        for path, digest in kept.items():  # everything written before is still there
            assert path in now, (command, path)
        kept = now
