"""Variants: the merge order of actor files and override layers (issue 16, item 3).

Order: the actor file, then the base scenario's ``overrides``, then each
variant's ``overrides``. A ``remove`` or an override that matches nothing is a
one-line error naming the file and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from peacegame.cli import main
from peacegame.errors import ConfigError
from peacegame.scenario import load_compiled, load_scenario

from conftest import SCENARIOS

ACTOR = {
    "id": "a",
    "no_deal": 0.2,
    "discount": 0.9,
    "recognition": 0.5,
    "terms": [{"weight": 1, "issue": "size", "values": [0.0, 1.0]}],
    "red_lines": [
        {"name": "no_large", "when": {"issue": "size", "in": ["large"]}},
        {"name": "no_small", "when": {"issue": "size", "in": ["small"]}},
    ],
}
OTHER = {
    "id": "b",
    "no_deal": 0.2,
    "discount": 0.9,
    "recognition": 0.5,
    "terms": [{"weight": 1, "issue": "size", "values": [1.0, 0.0]}],
}


def _write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A base scenario that already overrides actor a's red lines."""
    _write(tmp_path / "a.yaml", ACTOR)
    _write(tmp_path / "b.yaml", OTHER)
    return _write(
        tmp_path / "base.yaml",
        {
            "name": "base",
            "issues": [{"name": "size", "levels": ["small", "large"]}],
            "actors": ["a.yaml", "b.yaml"],
            "consent": [{"name": "both", "actors": ["a", "b"]}],
            "overrides": {
                "a": {
                    "red_lines": [
                        {"name": "no_large", "kind": "hard"},
                        {"name": "added", "when": {"issue": "size", "in": ["large"]}},
                    ]
                }
            },
        },
    )


def _variant(base: Path, overrides: dict[str, Any], name: str = "v.yaml") -> Path:
    return _write(
        base.parent / name,
        {"extends": base.name, "name": "variant", "overrides": overrides},
    )


def _lines(actor: str, *items: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` that set ``actor``'s red lines to ``items``."""
    return {actor: {"red_lines": list(items)}}


def _red_lines(path: Path, actor: str = "a") -> dict[str, str]:
    loaded = load_scenario(path)
    found = next(x for x in loaded.actors if x.id == actor)
    return {r.name: r.kind for r in found.red_lines}


def test_base_overrides_apply_over_the_actor_file(base):
    assert _red_lines(base) == {"no_large": "hard", "no_small": "soft", "added": "soft"}


def test_variant_removes_a_red_line_of_the_actor_file(base):
    # The red line comes from the actor file; the base overrides the same list.
    variant = _variant(base, _lines("a", {"name": "no_small", "remove": True}))
    assert _red_lines(variant) == {"no_large": "hard", "added": "soft"}


def test_variant_removes_a_red_line_the_base_added_or_changed(base):
    variant = _variant(
        base,
        {
            "a": {
                "red_lines": [
                    {"name": "added", "remove": True},
                    {"name": "no_large", "remove": True},
                ]
            }
        },
    )
    assert _red_lines(variant) == {"no_small": "soft"}


def test_variant_override_applies_after_the_base_override(base):
    variant = _variant(base, _lines("a", {"name": "no_large", "kind": "soft"}))
    assert _red_lines(variant)["no_large"] == "soft"
    variant = _variant(base, {"a": {"no_deal": 0.3}}, name="v2.yaml")
    loaded = load_scenario(variant)
    assert next(x for x in loaded.actors if x.id == "a").no_deal == 0.3
    # The base override still holds under a variant that overrides other fields.
    assert _red_lines(variant)["no_large"] == "hard"


def test_shipped_hardline_variant_can_remove_a_red_line(tmp_path):
    # hardline.yaml already overrides russia's red lines (makes them hard).
    variant = _write(
        tmp_path / "soft-russia.yaml",
        {
            "extends": str(SCENARIOS / "hardline.yaml"),
            "name": "hardline-without-no-nato",
            "overrides": {
                "russia": {"red_lines": [{"name": "no_nato_troops", "remove": True}]}
            },
        },
    )
    lines = _red_lines(variant, "russia")
    assert "no_nato_troops" not in lines
    assert lines["no_force_without_unsc_mandate"] == "hard"
    compiled = load_compiled(variant)
    assert ("russia", "no_nato_troops") not in compiled.red_lines


def test_remove_that_matches_nothing_is_an_error(base):
    variant = _variant(base, _lines("a", {"name": "no_smal", "remove": True}))
    with pytest.raises(ConfigError) as caught:
        load_scenario(variant)
    err = caught.value
    assert err.file == str(variant)
    assert err.field == "overrides.a.red_lines[0]"
    assert "cannot remove 'no_smal'" in err.message
    assert "did you mean 'no_small'?" in err.message


def test_remove_in_an_actor_without_red_lines_is_an_error(base):
    variant = _variant(base, {"b": {"red_lines": [{"name": "x", "remove": True}]}})
    with pytest.raises(ConfigError, match="nothing to remove"):
        load_scenario(variant)


def test_remove_of_a_scenario_list_item_that_matches_nothing(base):
    variant = _write(
        base.parent / "v.yaml",
        {
            "extends": base.name,
            "name": "variant",
            "consent": [{"name": "nobody", "remove": True}],
        },
    )
    with pytest.raises(ConfigError) as caught:
        load_scenario(variant)
    assert caught.value.file == str(variant)
    assert caught.value.field == "consent[0]"


def test_override_that_matches_nothing_is_an_error(base):
    # A partial item (no 'when') naming no red line: a typo, not a new red line.
    variant = _variant(base, _lines("a", {"name": "no_larg", "kind": "soft"}))
    with pytest.raises(ConfigError) as caught:
        load_scenario(variant)
    assert caught.value.field == "overrides.a.red_lines[0]"
    assert "no red line 'no_larg'" in caught.value.message
    assert "did you mean 'no_large'?" in caught.value.message
    variant = _variant(base, {"a": {"no_dael": 0.3}}, name="v2.yaml")
    with pytest.raises(ConfigError) as caught:
        load_scenario(variant)
    assert caught.value.file == str(variant)
    assert caught.value.field == "overrides.a.no_dael"
    assert "did you mean 'no_deal'?" in caught.value.message


def test_unknown_actor_in_the_base_overrides_names_the_base_file(base):
    data = yaml.safe_load(base.read_text())
    data["overrides"]["c"] = {"no_deal": 0.1}
    _write(base, data)
    variant = _variant(base, {})
    with pytest.raises(ConfigError) as caught:
        load_scenario(variant)
    assert caught.value.file == str(base)
    assert caught.value.field == "overrides.c"


def test_cli_error_is_one_line(base, capsys):
    variant = _variant(base, {"a": {"red_lines": [{"name": "zzz", "remove": True}]}})
    assert main(["validate", str(variant)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"error: {variant}: overrides.a.red_lines[0]: ")
    assert "Traceback" not in err[0]
