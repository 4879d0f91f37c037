"""Played-out robustness: play the match on sampled calibrations, with and without.

``peacegame sensitivity SCENARIO --play K`` draws ``K`` calibrations (a Latin
hypercube of the same uncertain numbers, from the run's seed), compiles each
one twice, as the scenario and as its **counterfactual**, and plays a match
config's episodes on both with the batch engine (:mod:`peacegame.batch`). The
counterfactual is the one the scenario's question declares:

- its ``variant`` (for the default scenario ``no-china``, which drops the
  composition levels with Chinese troops), compiled with the same calibration
  (uncertain numbers are matched by name; a number the variant lacks is not
  used, one only the variant has stays at its value);
- without a variant, the scenario with every outcome whose ``feature`` is
  above 0 forbidden (a feasibility rule added to the calibration).

Both sides play the same episodes with the same seeds (the config's ``seed``,
episodes ``0 .. N - 1``), so each calibration gives a paired comparison of the
agreement rates. The match config is ``--match`` or, by default, the shipped
match config of the scenario (see :func:`default_match`); every policy must be
a built-in scripted strategy.

Layout inside the run folder::

    play/manifest.json     calibrations, match (path, hash), episodes, seed,
                           counterfactual
    play/design.npy        the unit design of the K calibrations
    play/chunks/NNNNN.npz  per calibration: agreements with and without, the
                           agreements that have the feature, mean rewards
    play/nominal.npz       the same at the nominal calibration

Every chunk is a pure function of its rows and is written atomically, so the
results are identical for any number of workers and across an interrupted and
resumed run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from peacegame.analysis.sensitivity.question import Setup, load_setup
from peacegame.analysis.sensitivity.sampling import to_values, unit_design
from peacegame.errors import UserError

FOLDER = "play"
SCHEMA = "peacegame-sensitivity-play/1"
CHUNK = 4
"""Calibrations per chunk (the unit of resumption and of parallel work)."""
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True)
class PlaySpec:
    """What the played-out part of a run evaluates.

    Attributes:
        calibrations: ``K``, the number of sampled calibrations played.
        match: The match config file (resolved path).
        episodes: Episodes per calibration and side.
        seed: Seed of the calibration design (the run's seed).

    """

    calibrations: int
    match: str
    episodes: int
    seed: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def default_match(setup: Setup) -> Path:
    """The shipped match config that plays ``setup``'s scenario.

    Among the shipped match configs whose scenario is this scenario's file and
    whose policies are all built-in scripted strategies, the one named
    ``baseline`` if there is one, else the only one.

    Raises:
        UserError: When there is none, or several and none is ``baseline``.

    """
    from peacegame.batch import supported_spec
    from peacegame.match_config import load_match_config
    from peacegame.resources import resolve_config, shipped_names

    target = Path(setup.loaded.path).resolve()
    found: list[tuple[str, Path]] = []
    for name in shipped_names("matches"):
        try:
            path = resolve_config(name, "matches")
            cfg, scenario_file = load_match_config(path)
        except UserError:
            continue
        if Path(scenario_file).resolve() != target:
            continue
        if all(supported_spec(spec) for spec in cfg.policies.values()):
            found.append((Path(path).stem, Path(path)))
    for stem, path in found:
        if stem == "baseline":
            return path
    if len(found) == 1:
        return found[0][1]
    listed = ", ".join(stem for stem, _ in found) or "none"
    raise UserError(
        f"--play: choose the match config to play with --match CONFIG (shipped "
        f"scripted match configs of {Path(setup.loaded.path).name}: {listed})",
        file=setup.loaded.path,
    )


class Counterfactual:
    """Compiles a calibration of the scenario without what the question asks about.

    Args:
        setup: The loaded scenario and its question.

    Raises:
        UserError: When the scenario declares no question, or its variant
            does not load.

    """

    def __init__(self, setup: Setup) -> None:
        from peacegame.analysis.compare import variant_input
        from peacegame.scenario import load_scenario
        from peacegame.scenario.calibrations import Calibrations

        question = setup.question
        if question is None:
            raise UserError(
                "--play compares the match with and without the scenario's "
                "counterfactual, but the scenario declares no question; add one "
                "under questions.counterfactuals",
                file=setup.loaded.path,
                field="questions.counterfactuals",
            )
        self.setup = setup
        self.feature = question.feature
        self.variant: Calibrations | None = None
        self.columns: np.ndarray | None = None
        if question.variant:
            path = variant_input(setup.loaded, question.name)
            self.variant = Calibrations(load_scenario(path))
            names = [p.name for p in setup.calibrations.parameters]
            self.columns = np.array(
                [
                    names.index(p.name) if p.name in names else -1
                    for p in self.variant.parameters
                ],
                np.int64,
            )
            self.description = f"the {self.variant.loaded.spec.name} variant"
            self.kind = "variant"
            self.path = str(self.variant.loaded.path)
        else:
            self.description = f"no outcome with {question.feature_label}"
            self.kind = "feature"
            self.path = str(setup.loaded.path)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the manifest)."""
        return {
            "kind": self.kind,
            "description": self.description,
            "scenario": self.path,
            "feature": self.feature,
        }

    def compile(self, row: np.ndarray) -> Any:
        """The counterfactual's compiled scenario at one calibration."""
        from peacegame.scenario import compile_scenario, scenario_from_dict

        if self.variant is not None:
            assert self.columns is not None
            mapped = np.where(
                self.columns >= 0,
                row[np.maximum(self.columns, 0)],
                self.variant.nominal,
            )
            return self.variant.compile_one(mapped)
        data = self.setup.calibrations.substituted(row)
        data["feasibility"] = [
            *data.get("feasibility", []),
            {
                "name": "counterfactual_without_feature",
                "forbid": {"feature": self.feature, "above": 0},
            },
        ]
        source = f"{self.setup.loaded.path} (counterfactual)"
        return compile_scenario(scenario_from_dict(data, source=source))


class Player:
    """Plays one match config on calibrations, with and without the counterfactual.

    Args:
        scenario: The scenario file or shipped name.
        question: The declared question's name (None: the first).
        match: The match config file.
        episodes: Episodes per calibration and side.

    Raises:
        UserError: For a question without a counterfactual, a match config that
            does not load, or one whose policies the batch engine cannot play.

    """

    def __init__(
        self, scenario: str, question: str | None, match: str, episodes: int
    ) -> None:
        from peacegame.batch import supported_spec
        from peacegame.match_config import (
            check_policies_cover_actors,
            load_match_config,
        )

        self.args = (scenario, question, match, int(episodes))
        self.setup = load_setup(scenario, question)
        self.counterfactual = Counterfactual(self.setup)
        cfg, _ = load_match_config(match)
        check_policies_cover_actors(cfg, self.setup.compiled.actors, match)
        for actor, spec in cfg.policies.items():
            if not supported_spec(spec):
                raise UserError(
                    "--play uses the batch engine, which plays built-in scripted "
                    f"strategies only; got {spec!r}",
                    file=match,
                    field=f"policies.{actor}",
                )
        self.config = cfg.model_copy(update={"episodes": int(episodes)})
        self.match = match
        self.episodes = int(episodes)

    def _play(self, scenario: Any) -> tuple[int, int, np.ndarray]:
        from peacegame.batch import BatchEngine

        engine = BatchEngine(self.config, scenario, config_file=self.match)
        result = engine.play(range(self.episodes))
        agreed = result.outcome >= 0
        with_feature = 0
        feature = self.counterfactual.feature
        if feature is not None and feature in scenario.features:
            marked = scenario.features[feature] > 0
            with_feature = int(marked[result.outcome[agreed]].sum())
        return int(agreed.sum()), with_feature, result.rewards.mean(axis=0)

    def __call__(self, values: np.ndarray) -> dict[str, np.ndarray]:
        """Play every row of ``values`` (``float64[K, P]``) on both sides.

        Returns:
            ``agreed_with``, ``agreed_without``, ``feature_with``,
            ``feature_without`` (``int64[K]``) and ``reward_with``,
            ``reward_without`` (``float64[K, A]``, mean reward per actor).

        """
        values = np.atleast_2d(values)
        n, n_a = values.shape[0], len(self.setup.compiled.actors)
        out = {
            "agreed_with": np.zeros(n, np.int64),
            "agreed_without": np.zeros(n, np.int64),
            "feature_with": np.zeros(n, np.int64),
            "feature_without": np.zeros(n, np.int64),
            "reward_with": np.zeros((n, n_a)),
            "reward_without": np.zeros((n, n_a)),
        }
        for k, row in enumerate(values):
            sides = (
                ("with", self.setup.calibrations.compile_one(row)),
                ("without", self.counterfactual.compile(row)),
            )
            for side, scenario in sides:
                agreed, marked, reward = self._play(scenario)
                out[f"agreed_{side}"][k] = agreed
                out[f"feature_{side}"][k] = marked
                out[f"reward_{side}"][k] = reward
        return out


_WORKER: dict[str, Player] = {}


def _worker_init(args: tuple[str, str | None, str, int]) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER.clear()
    _WORKER["player"] = Player(*args)


def _worker_chunk(job: tuple[int, np.ndarray, str]) -> int:
    index, values, folder = job
    _write(_chunk_path(Path(folder), index), _WORKER["player"](values))
    return index


def _chunk_path(play_dir: Path, index: int) -> Path:
    return play_dir / "chunks" / f"{index:05d}.npz"


def _write(path: Path, answers: dict[str, np.ndarray]) -> None:
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **answers)
    os.replace(tmp, path)


def _file_hash(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _prepare(play_dir: Path, manifest: dict[str, Any], resume: bool) -> None:
    """Create ``play/``, or check that its manifest asks the same.

    Raises:
        UserError: When the recorded played-out run differs, or ``play/``
            exists outside ``--resume``.

    """
    path = play_dir / "manifest.json"
    if path.is_file():
        if not resume:
            raise UserError(
                f"the played-out run {play_dir} already exists; continue it with "
                "--resume, or choose a new folder with --out",
                file=play_dir,
            )
        recorded = json.loads(path.read_text())
        for key in ("spec", "match_hash", "counterfactual"):
            if recorded.get(key) != manifest.get(key):
                raise UserError(
                    f"--resume: the recorded played-out run differs in {key!r} "
                    f"(recorded {json.dumps(recorded.get(key))[:120]}); resume "
                    "with the same --play/--match/--episodes, or choose a new "
                    "--out folder",
                    file=play_dir,
                )
        return
    (play_dir / "chunks").mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n")


def recorded_spec(run_dir: Path) -> PlaySpec | None:
    """The played-out spec a run folder records (None: it has none)."""
    path = run_dir / FOLDER / "manifest.json"
    if not path.is_file():
        return None
    return PlaySpec(**json.loads(path.read_text())["spec"])


def play_out(
    run_dir: Path,
    player: Player,
    spec: PlaySpec,
    *,
    resume: bool = False,
    workers: int = 1,
) -> dict[str, Any]:
    """Play (or resume playing) ``spec.calibrations`` calibrations; return them.

    Args:
        run_dir: The sensitivity run folder (``play/`` goes inside).
        player: The player of ``spec``'s match (built first, so that a bad
            match config fails before anything is written).
        spec: What to play.
        resume: Continue a recorded played-out run.
        workers: Local processes.

    Returns:
        ``{"manifest", "values", "answers" (per output, all K rows),
        "nominal" (the same at the nominal calibration), "player"}``.

    Raises:
        UserError: See :func:`_prepare`.

    """
    params = player.setup.calibrations.parameters
    manifest = {
        "schema": SCHEMA,
        "spec": spec.as_dict(),
        "match_hash": _file_hash(spec.match),
        "counterfactual": player.counterfactual.as_dict(),
        "chunk": CHUNK,
    }
    play_dir = run_dir / FOLDER
    _prepare(play_dir, manifest, resume)
    design_path = play_dir / "design.npy"
    if design_path.is_file():
        design = np.load(design_path)
    else:
        design = unit_design("lhs", params, spec.calibrations, spec.seed)
        np.save(design_path, design)
    values = to_values(design, params)
    n_chunks = -(-len(values) // CHUNK)
    todo = [k for k in range(n_chunks) if not _chunk_path(play_dir, k).is_file()]
    jobs = ((k, values[k * CHUNK : (k + 1) * CHUNK], str(play_dir)) for k in todo)
    for _ in _run(jobs, player, workers):
        pass
    nominal_path = play_dir / "nominal.npz"
    if not nominal_path.is_file():
        _write(nominal_path, player(player.setup.calibrations.nominal[None, :]))
    parts = [dict(np.load(_chunk_path(play_dir, k))) for k in range(n_chunks)]
    answers = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return {
        "manifest": manifest,
        "values": values,
        "answers": answers,
        "nominal": dict(np.load(nominal_path)),
        "player": player,
    }


def _run(
    jobs: Iterator[tuple[int, np.ndarray, str]],
    player: Player,
    workers: int,
) -> Iterator[int]:
    if workers <= 1:
        for index, values, folder in jobs:
            _write(_chunk_path(Path(folder), index), player(values))
            yield index
        return
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_worker_init,
        initargs=(player.args,),
    ) as pool:
        yield from pool.map(_worker_chunk, jobs)


# --------------------------------------------------------------------------- #
# Summary
# --------------------------------------------------------------------------- #


def _quantiles(x: np.ndarray) -> dict[str, float]:
    q = np.quantile(x, QUANTILES)
    out = {f"q{int(p * 100):02d}": float(v) for p, v in zip(QUANTILES, q, strict=True)}
    out["mean"] = float(x.mean())
    return out


def _mean_interval(x: np.ndarray) -> dict[str, float]:
    """Mean with a 95% t interval (a zero-width one when ``x`` never varies)."""
    from scipy import stats

    mean = float(x.mean())
    if x.size < 2 or float(np.ptp(x)) == 0.0:
        return {"mean": mean, "low": mean, "high": mean}
    half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return {"mean": mean, "low": mean - half, "high": mean + half}


def summarise_play(played: dict[str, Any]) -> dict[str, Any]:
    """The JSON-ready summary of a played-out run.

    Agreement rates are agreements per episode; ``difference`` is the rate
    with minus the rate without, per calibration (a paired comparison: the
    same seeds on both sides). ``higher`` / ``lower`` / ``same`` are the
    shares of calibrations where the rate with the counterfactual's outcomes
    is above, below or equal to the rate without, with Wilson 95% intervals.
    """
    from peacegame.analysis.sensitivity.summary import proportion

    manifest, answers, nominal = (
        played["manifest"],
        played["answers"],
        played["nominal"],
    )
    player: Player = played["player"]
    spec = manifest["spec"]
    n_ep = int(spec["episodes"])
    rate_with = answers["agreed_with"] / n_ep
    rate_without = answers["agreed_without"] / n_ep
    diff = rate_with - rate_without
    k = int(diff.size)
    actors = list(player.setup.compiled.actors)
    focus = player.setup.question.focus if player.setup.question else None
    agreed = answers["agreed_with"]
    feature_share = answers["feature_with"][agreed > 0] / agreed[agreed > 0]
    doc: dict[str, Any] = {
        "match": spec["match"],
        "match_name": player.config.name,
        "episodes": n_ep,
        "calibrations": k,
        "seed": spec["seed"],
        "counterfactual": manifest["counterfactual"],
        "nominal": {
            "rate_with": float(nominal["agreed_with"][0] / n_ep),
            "rate_without": float(nominal["agreed_without"][0] / n_ep),
            "feature_share": (
                float(nominal["feature_with"][0] / nominal["agreed_with"][0])
                if nominal["agreed_with"][0] > 0
                else None
            ),
        },
        "rate_with": _quantiles(rate_with),
        "rate_without": _quantiles(rate_without),
        "difference": _quantiles(diff),
        "mean_difference": _mean_interval(diff),
        "higher": proportion(int((diff > 0).sum()), k),
        "lower": proportion(int((diff < 0).sum()), k),
        "same": proportion(int((diff == 0).sum()), k),
        "feature_share": _quantiles(feature_share) if feature_share.size else {},
        "focus": focus,
        "focus_reward": None,
    }
    if focus in actors:
        a = actors.index(focus)
        doc["focus_reward"] = {
            "with": _quantiles(answers["reward_with"][:, a]),
            "without": _quantiles(answers["reward_without"][:, a]),
        }
    doc["text"] = play_text(doc, player)
    return doc


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def play_text(doc: dict[str, Any], player: Player) -> str:
    """The played-out summary in words and one table."""
    from peacegame.describe import table

    q = player.setup.question
    cf = doc["counterfactual"]["description"]
    if q is not None and q.feature:
        label = q.feature_label
        sides = f"with {label} and without ({cf})"
        higher, row_with, row_without = (
            f"higher with {label}",
            f"agreement rate with {label}",
            "agreement rate without",
        )
    else:
        label = "the counterfactual's outcomes"
        sides = f"as they are and in {cf}"
        higher, row_with, row_without = (
            f"higher than in {cf}",
            "agreement rate",
            f"agreement rate in {cf}",
        )
    nom, md = doc["nominal"], doc["mean_difference"]
    h, lo, same = doc["higher"], doc["lower"], doc["same"]
    lines = [
        f"Played out: match {doc['match_name']} ({doc['episodes']:,} episodes, the "
        f"same seeds on both sides) on {doc['calibrations']:,} calibrations, "
        f"{sides}.",
        f"  The agreement rate is {higher} in {_pct(h['p'])} of "
        f"calibrations (95% CI {_pct(h['low'])}-{_pct(h['high'])}), lower in "
        f"{_pct(lo['p'])}, the same in {_pct(same['p'])}; mean difference "
        f"{100 * md['mean']:+.1f} points (95% CI {100 * md['low']:+.1f} to "
        f"{100 * md['high']:+.1f}).",
        f"  Nominal calibration: {_pct(nom['rate_with'])} with, "
        f"{_pct(nom['rate_without'])} without.",
    ]
    share = doc["feature_share"]
    if share:
        lines.append(
            f"  Agreements that have {label}: median {_pct(share['q50'])} of the "
            f"agreements (5%-95%: {_pct(share['q05'])}-{_pct(share['q95'])})."
        )
    rows = [
        [name, *(_pct(doc[key][f"q{int(p * 100):02d}"]) for p in QUANTILES)]
        for key, name in (
            ("rate_with", row_with),
            ("rate_without", row_without),
        )
    ]
    rows.append(
        [
            "difference (points)",
            *(
                f"{100 * doc['difference'][f'q{int(p * 100):02d}']:+.1f}"
                for p in QUANTILES
            ),
        ]
    )
    lines += ["", table(["played out", "5%", "25%", "median", "75%", "95%"], rows)]
    return "\n".join(lines)


def write_play_plot(doc: dict[str, Any], played: dict[str, Any], folder: Path) -> Path:
    """``play.png``: histograms of the agreement rates and of their difference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    answers, n_ep = played["answers"], doc["episodes"]
    rate_with = answers["agreed_with"] / n_ep
    rate_without = answers["agreed_without"] / n_ep
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    bins = np.linspace(0, 1, 41)
    axes[0].hist(rate_with, bins=bins, alpha=0.6, color="#4c72b0", label="with")
    axes[0].hist(rate_without, bins=bins, alpha=0.6, color="#dd8452", label="without")
    axes[0].axvline(doc["nominal"]["rate_with"], color="#4c72b0", lw=1.2, ls="--")
    axes[0].axvline(doc["nominal"]["rate_without"], color="#dd8452", lw=1.2, ls="--")
    axes[0].set_xlabel("agreement rate (dashed: nominal calibration)")
    axes[0].set_ylabel("calibrations")
    axes[0].legend(fontsize=8)
    diff = 100 * (rate_with - rate_without)
    axes[1].hist(diff, bins=40, color="#55a868")
    axes[1].axvline(0, color="k", lw=0.8)
    nominal = doc["nominal"]
    axes[1].axvline(
        100 * (nominal["rate_with"] - nominal["rate_without"]),
        color="#c44e52",
        lw=1.2,
        label="nominal",
    )
    axes[1].set_xlabel("agreement rate with minus without (points)")
    axes[1].legend(fontsize=8)
    fig.suptitle(
        f"{doc['match_name']}: {doc['calibrations']:,} calibrations x "
        f"{n_ep:,} episodes; without = {doc['counterfactual']['description']}",
        fontsize=10,
    )
    fig.tight_layout()
    path = folder / "play.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
