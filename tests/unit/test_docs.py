"""docs/ builds: the design, the closed-form references and the API page generated from
the docstrings (mkdocs, strict: a broken link or reference fails)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_documentation_builds_with_the_api_from_the_docstrings(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    api = (site / "api" / "index.html").read_text()
    from constriction.reference import flux_tube_resistance
    from constriction.sources import discretise
    for documented in (flux_tube_resistance, discretise):
        assert documented.__doc__.split("\n")[0].split(":")[0] in api
    assert (site / "DESIGN" / "index.html").is_file() and (site / "REFERENCE" / "index.html").is_file()
