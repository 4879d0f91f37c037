"""What a sensitivity run asks: the scenario, its uncertain numbers, its question."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

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
        variant: For a question without a ``feature``, the batched compiler
            of its ``variant`` (the scenario compared with), else None.
        variant_columns: Per uncertain number of the variant, its column in
            this scenario's calibrations (-1: the variant's own value).

    """

    loaded: LoadedScenario
    compiled: CompiledScenario
    calibrations: Calibrations
    question: CounterfactualQuestion | None
    batch_question: BatchQuestion
    variant: Calibrations | None = None
    variant_columns: np.ndarray | None = None

    def variant_values(self, values: np.ndarray) -> np.ndarray:
        """This scenario's calibration rows as rows of the variant's numbers.

        Numbers are matched by name; one only the variant has stays at its
        value (a number the variant lacks is not used by it).
        """
        assert self.variant is not None and self.variant_columns is not None
        values = np.atleast_2d(values)
        cols = self.variant_columns
        return np.where(
            cols[None, :] >= 0,
            values[:, np.maximum(cols, 0)] if cols.size else values[:, :0],
            self.variant.nominal[None, :],
        )

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
        UserError: For an unknown scenario or question, or a question with
            neither a ``feature`` (the sensitivity run answers "does allowing
            the feature's outcomes enlarge the focus actor's acceptance set")
            nor a ``variant`` (then: "does the focus actor accept more
            outcomes in this scenario than in the variant").

    """
    from peacegame.analysis.compare import resolve_question
    from peacegame.resources import resolve_config
    from peacegame.scenario import compile_scenario, load_scenario

    loaded = load_scenario(resolve_config(scenario, "scenarios"))
    chosen = resolve_question(loaded, name=question)
    compiled = compile_scenario(loaded)
    variant: Calibrations | None = None
    columns: np.ndarray | None = None
    if chosen is not None and chosen.feature is None:
        index = loaded.spec.questions.counterfactuals.index(chosen)
        if not chosen.variant:
            raise UserError(
                f"question {chosen.name!r} has neither a 'feature' nor a "
                "'variant'; sensitivity answers 'does allowing outcomes with "
                "FEATURE enlarge the set FOCUS accepts' or 'does FOCUS accept "
                "more here than in VARIANT'; add one to the question, or pick "
                "another with --question",
                file=loaded.path,
                field=f"questions.counterfactuals[{index}].feature",
            )
        from peacegame.analysis.compare import variant_input

        variant = Calibrations(load_scenario(variant_input(loaded, chosen.name)))
        if tuple(variant.actor_ids) != tuple(compiled.actors):
            raise UserError(
                f"variant {chosen.variant!r} has the actors "
                f"{list(variant.actor_ids)}, expected {list(compiled.actors)} "
                "in this order",
                file=loaded.path,
                field=f"questions.counterfactuals[{index}].variant",
            )
        names = [p.name for p in loaded.uncertain]
        columns = np.array(
            [
                names.index(p.name) if p.name in names else -1
                for p in variant.parameters
            ],
            np.int64,
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
        variant=variant,
        variant_columns=columns,
    )
