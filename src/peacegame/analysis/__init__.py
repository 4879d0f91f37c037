"""Outcome analysis: logs -> tables, plots, an HTML/Markdown report, comparisons.

Modules (pandas and matplotlib, the ``analysis`` extra, are imported lazily):

- :mod:`~peacegame.analysis.frame`: a run folder's ``episodes.jsonl`` as a
  DataFrame with a documented column set (:func:`load_run`);
- :mod:`~peacegame.analysis.stats`: Wilson and Student t intervals;
- :mod:`~peacegame.analysis.summary`: the summary table of one or several runs;
- :mod:`~peacegame.analysis.plots`: matplotlib figures and PNG files;
- :mod:`~peacegame.analysis.report`: the self-contained HTML and Markdown report;
- :mod:`~peacegame.analysis.compare`: two scenarios (or match configs) side by
  side;
- :mod:`~peacegame.analysis.commands`: the ``analyze``, ``report`` and
  ``compare`` subcommands;
- :mod:`~peacegame.analysis.worker`: the plot process ``peacegame run`` forks
  before its match.

See ``docs/analysis.md``.
"""

from __future__ import annotations

from peacegame.errors import UserError

INSTALL_HINT = "pip install peacegame[analysis]"


def require_analysis(plots: bool = False) -> None:
    """Check that the ``analysis`` extra is installed.

    Args:
        plots: Also select matplotlib's non-interactive Agg backend (for
            command-line use; library code draws on Figure objects without
            pyplot and needs no backend).

    Raises:
        UserError: If pandas or matplotlib is missing, naming the install
            command.

    """
    try:
        import matplotlib
        import pandas  # noqa: F401
    except ImportError as exc:
        raise UserError(
            f"this command needs pandas and matplotlib ({exc.name} is missing): "
            f"{INSTALL_HINT}"
        ) from None
    if plots:
        matplotlib.use("Agg")


__all__ = ["INSTALL_HINT", "require_analysis"]
