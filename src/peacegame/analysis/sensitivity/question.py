"""What a sensitivity run asks: the scenario, its uncertain numbers, its question."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peacegame.analysis.sensitivity.solve import BatchQuestion
from peacegame.errors import UserError
from peacegame.scenario.calibrations import Calibrations
from peacegame.scenario.compiled import CompiledScenario
from peacegame.scenario.loader import LoadedScenario
from peacegame.scenario.model import CounterfactualQuestion


@dataclass
class Setup:
    """A loaded scenario ready for batches of calibrations.

    Attributes:
        loaded: The scenario.
        compiled: Its nominal compiled form (every number at its value).
        calibrations: Its batched compiler.
        question: The declared question answered (None: the scenario
            declares none; zone and Nash point only).
        batch_question: The question as indices.

    """

    loaded: LoadedScenario
    compiled: CompiledScenario
    calibrations: Calibrations
    question: CounterfactualQuestion | None
    batch_question: BatchQuestion

    @property
    def question_dict(self) -> dict[str, Any] | None:
        """The question, JSON-ready."""
        if self.question is None:
            return None
        return self.question.model_dump(exclude_none=True)

    @property
    def focus_name(self) -> str | None:
        """The focus actor's readable name."""
        if self.question is None:
            return None
        sc = self.compiled
        return sc.actor_names[sc.actor_index(self.question.focus)]


def load_setup(scenario: str, question: str | None = None) -> Setup:
    """Load a scenario (file or shipped name) and resolve its question.

    Args:
        scenario: A scenario file or shipped name.
        question: The name of a declared question (default: the first).

    Raises:
        UserError: For an unknown scenario or question, or a question without
            a ``feature`` (the sensitivity run answers "does allowing the
            feature's outcomes enlarge the focus actor's acceptance set").

    """
    from peacegame.analysis.compare import resolve_question
    from peacegame.resources import resolve_config
    from peacegame.scenario import compile_scenario, load_scenario

    loaded = load_scenario(resolve_config(scenario, "scenarios"))
    chosen = resolve_question(loaded, name=question)
    compiled = compile_scenario(loaded)
    if chosen is not None and chosen.feature is None:
        index = loaded.spec.questions.counterfactuals.index(chosen)
        raise UserError(
            f"question {chosen.name!r} has no 'feature'; sensitivity answers "
            "questions of the form 'does allowing outcomes with FEATURE enlarge "
            "the set FOCUS accepts'; add a feature to the question, or pick "
            "another with --question",
            file=loaded.path,
            field=f"questions.counterfactuals[{index}].feature",
        )
    focus = compiled.actor_index(chosen.focus) if chosen is not None else None
    feature = chosen.feature if chosen is not None else None
    return Setup(
        loaded=loaded,
        compiled=compiled,
        calibrations=Calibrations(loaded),
        question=chosen,
        batch_question=BatchQuestion(
            focus=focus, feature=feature, red_lines=tuple(compiled.red_lines)
        ),
    )
