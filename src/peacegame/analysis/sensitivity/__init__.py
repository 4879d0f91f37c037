"""Global sensitivity analysis of a scenario's uncertain numbers.

``peacegame sensitivity SCENARIO`` draws calibrations of the numbers a
scenario declares with a range (:mod:`peacegame.scenario.uncertainty`),
compiles them in batches (:mod:`peacegame.scenario.calibrations`), answers the
scenario's declared question and finds the zone of agreement, the Nash point
and the binding red lines for each (:mod:`.solve`), and reports how sure the
answer is (:mod:`.summary`, :mod:`.plots`). Runs are resumable folders
(:mod:`.run`).
"""

from peacegame.analysis.sensitivity.commands import run_sensitivity

__all__ = ["run_sensitivity"]
