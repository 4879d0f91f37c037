"""The statistics come from scipy and statsmodels, imported on first use only."""

from __future__ import annotations

import subprocess
import sys


def test_statistics_modules_do_not_import_scipy_at_import_time() -> None:
    # numba (the engine, and the voting rules solutions.py calls) imports the
    # top-level ``scipy`` package to check its version, so the test looks for
    # the statistics libraries themselves: scipy.stats and statsmodels.
    code = (
        "import sys, peacegame, peacegame.analysis.stats, "
        "peacegame.tournament.significance, peacegame.tournament.rankings, "
        "peacegame.solutions; "
        "print(sorted(m for m in ('scipy.stats', 'statsmodels') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_first_use_imports_the_libraries() -> None:
    code = (
        "import sys; from peacegame.analysis.stats import wilson_interval; "
        "from peacegame.tournament.significance import holm; "
        "wilson_interval(3, 10); holm([0.1, 0.2]); "
        "print(sorted(m for m in ('scipy', 'statsmodels') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "['scipy', 'statsmodels']"
