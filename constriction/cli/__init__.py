"""The command line: `constriction run | plot` (main.py), `study` (study.py), `compare |
fit` (measured.py)."""

from constriction.cli.main import main

__all__ = ["main"]
