"""Learned policies: an SB3 model, an RLlib RL module or a torch policy network.

A match config names one with ``{policy: learned, checkpoint: PATH}``:

* ``PATH`` is an SB3 ``.zip`` written by ``peacegame train`` (MaskablePPO), an
  RLlib RL module folder written by the RLlib trainer (``.../modules/<actor>``),
  or a policy network's weights written by the multi-agent trainer
  (``trainer: marl``, ``.../modules/<actor>.pt``: a ``torch.save`` state dict
  of tensors, its layer widths in the metadata's ``network``); a relative path
  is looked up next to the config file first, then in the working directory;
* next to it, ``PATH`` with the suffix ``.json``, lies the metadata written at
  training time: the actor, the scenario hash, the observation size, the
  number of actions and the protocol config. Loading checks them: a missing
  checkpoint or metadata file, another actor, another scenario or another
  observation size is a one-line :class:`~peacegame.errors.ConfigError`;
* a checkpoint trained under another action interface (metadata
  ``actions: utility`` or ``issues``, with the protocol's ``utility_bins``,
  ``utility_ties`` and ``utility_snap``)
  plays in the match's env of concrete actions through the engine's
  translation (:class:`peacegame.policies.base.ActionTranslators`, the same
  :class:`~peacegame.engine.actions.SlotTranslator` the training adapters
  use): it sees the interface's observation (``issues``: with its own draft)
  and mask, and its action becomes the concrete move (an ``issues`` proposal
  takes its sub-steps inside one ``act`` call);
* the policy acts deterministically (the most probable legal action) unless
  ``sample: true``, when it samples from the masked distribution with the
  policy's own seeded generator, so matches stay reproducible. Illegal actions
  are masked out before either.

Security: an SB3 ``.zip`` holds pickled Python objects, and unpickling runs
code. Load checkpoints only from sources you trust; peacegame loads one only
from a path a config names explicitly, never by searching. RLlib module
checkpoints are also restored with pickle. A ``.pt`` policy network is read
with ``torch.load(weights_only=True)``: tensors only, no code is unpickled.

The registry (:data:`peacegame.policies.registry.LAZY_KINDS`) imports this
module for the ``learned`` policy kind on first use; torch, SB3 and Ray are
imported only when a checkpoint is loaded.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from peacegame.engine.actions import SUBSTEP, SlotTranslator
from peacegame.errors import ConfigError
from peacegame.policies.base import PolicyView
from peacegame.yamlio import pydantic_error

METADATA_FORMAT = "peacegame-checkpoint"
"""The ``format`` field of every checkpoint metadata file."""
METADATA_VERSION = 1
"""The current metadata version."""
BACKENDS = ("sb3", "rllib", "torch")
"""Checkpoint kinds: an SB3 ``.zip``, an RLlib RL module folder, or a ``.pt``
policy network (:func:`policy_network`)."""


def metadata_path(checkpoint: str | Path) -> Path:
    """The metadata file of a checkpoint: the same path with suffix ``.json``."""
    return Path(checkpoint).with_suffix(".json")


def view_fingerprint(view: PolicyView) -> str:
    """A hash of everything a policy may know of the game before it starts.

    Actors, outcomes (levels), consent (required), recognition, and the actor's
    own utilities, no-deal value and discount. Equal views give equal hashes,
    so a checkpoint's scenario can be checked against a match's even under
    private information, where the view does not hold the whole scenario.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps([view.agent, list(view.actors)]).encode())
    for array in (
        view.levels,
        view.required,
        view.utility,
        np.float64([view.no_deal, view.discount]),
    ):
        contiguous = np.ascontiguousarray(array)
        digest.update(str(contiguous.dtype).encode())
        digest.update(str(contiguous.shape).encode())
        digest.update(contiguous.tobytes())
    return digest.hexdigest()


def write_metadata(checkpoint: str | Path, metadata: dict[str, Any]) -> Path:
    """Write a checkpoint's metadata next to it (see :func:`metadata_path`)."""
    path = metadata_path(checkpoint)
    data = {"format": METADATA_FORMAT, "version": METADATA_VERSION, **metadata}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


def read_metadata(
    checkpoint: str | Path, *, file: str | None = None, field: str = "checkpoint"
) -> dict[str, Any]:
    """Read and check a checkpoint's metadata file.

    Raises:
        ConfigError: If it is missing, unreadable or not peacegame metadata.
    """
    path = metadata_path(checkpoint)
    where = {"file": file, "field": field} if file else {"file": str(path)}
    if not path.is_file():
        raise ConfigError(
            f"no metadata {path} next to the checkpoint; expected the .json that "
            "peacegame train writes beside each checkpoint",
            **where,
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read checkpoint metadata {path}: {exc}", **where
        ) from None
    if not isinstance(data, dict) or data.get("format") != METADATA_FORMAT:
        raise ConfigError(
            f"{path} is not peacegame checkpoint metadata (format "
            f"{METADATA_FORMAT!r} expected)",
            **where,
        )
    if data.get("version") != METADATA_VERSION:
        raise ConfigError(
            f"{path} has metadata version {data.get('version')!r}; this peacegame "
            f"reads version {METADATA_VERSION}",
            **where,
        )
    missing = [
        key
        for key in ("backend", "actor", "scenario", "obs_size", "n_actions")
        if key not in data
    ]
    if missing or data["backend"] not in BACKENDS:
        raise ConfigError(
            f"{path} lacks {missing or ['a valid backend']}; re-export the checkpoint",
            **where,
        )
    return data


def resolve_checkpoint(
    checkpoint: str | Path, *, file: str | None = None, field: str = "checkpoint"
) -> Path:
    """Find a checkpoint named by a config: next to the config, or in the cwd.

    A checkpoint named in a config *file* must lie inside that file's folder or
    the working directory: a config from elsewhere cannot make peacegame unpickle
    an arbitrary file on the machine. Paths given in Python (``file=None``) are
    taken as they are.

    Raises:
        ConfigError: If no such checkpoint exists, or it lies outside those
            folders.
    """
    path = Path(checkpoint).expanduser()
    candidates = [path]
    if not path.is_absolute() and file:
        candidates.insert(0, Path(file).parent / path)
    candidates = list(dict.fromkeys(candidates))
    for candidate in candidates:
        if candidate.exists():
            if file is not None and not _inside_allowed(candidate, Path(file)):
                raise ConfigError(
                    f"checkpoint {checkpoint} lies outside the config's folder and "
                    "the working directory; a config may only name checkpoints "
                    "inside them",
                    file=file,
                    field=field,
                )
            return candidate
    looked = " or ".join(str(c) for c in candidates)
    raise ConfigError(
        f"no checkpoint at {looked}; train it first (peacegame train, see "
        "docs/training.md) or correct the path",
        file=file,
        field=field,
    )


def _inside_allowed(candidate: Path, config_file: Path) -> bool:
    resolved = candidate.resolve()
    roots = (Path.cwd().resolve(), config_file.resolve().parent)
    return any(resolved.is_relative_to(root) for root in roots)


_LOADED: dict[tuple[str, str, int], _Backend] = {}
"""Loaded backends by (kind, resolved path, mtime): inference is stateless, so
every policy built from one checkpoint in a process shares one network."""


class _Backend:
    """Computes action logits from one observation vector."""

    def logits(self, vector: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class _SB3Backend(_Backend):
    """A MaskablePPO policy network (inference only, on the CPU)."""

    def __init__(self, path: Path, where: dict[str, Any]) -> None:
        try:
            import torch
            from sb3_contrib import MaskablePPO
        except ImportError:
            raise ConfigError(
                "an SB3 checkpoint needs torch, stable-baselines3 and sb3-contrib; "
                "pip install 'peacegame[train]'",
                **where,
            ) from None
        try:
            model = MaskablePPO.load(path, device="cpu")
        except Exception as exc:  # noqa: BLE001 (any load failure is a user error)
            raise ConfigError(
                f"cannot load SB3 checkpoint {path}: {type(exc).__name__}: {exc}",
                **where,
            ) from None
        self.torch = torch
        self.policy = model.policy
        self.policy.set_training_mode(False)
        self.obs_size = int(np.prod(model.observation_space.shape))
        self.n_actions = int(model.action_space.n)

    def logits(self, vector: np.ndarray) -> np.ndarray:
        torch = self.torch
        policy = self.policy
        with torch.no_grad():
            obs = torch.as_tensor(vector, dtype=torch.float32).unsqueeze(0)
            features = policy.pi_features_extractor(obs)
            latent = policy.mlp_extractor.forward_actor(features)
            return policy.action_net(latent)[0].numpy()


class _RllibBackend(_Backend):
    """An RLlib RL module restored from its folder (no Ray cluster is started)."""

    def __init__(self, path: Path, where: dict[str, Any]) -> None:
        try:
            import torch
            from ray.rllib.core.rl_module.rl_module import RLModule
        except ImportError:
            raise ConfigError(
                "an RLlib checkpoint needs ray[rllib] and torch; "
                "pip install 'peacegame[ray]'",
                **where,
            ) from None
        try:
            self.module = RLModule.from_checkpoint(str(path.resolve()))
        except Exception as exc:  # noqa: BLE001 (any load failure is a user error)
            raise ConfigError(
                f"cannot load RLlib module {path}: {type(exc).__name__}: {exc}",
                **where,
            ) from None
        self.module.eval()
        self.torch = torch
        space = self.module.observation_space
        inner = space["observations"] if hasattr(space, "spaces") else space
        self.obs_size = int(np.prod(inner.shape))
        self.n_actions = int(self.module.action_space.n)
        self._ones = torch.ones((1, self.n_actions), dtype=torch.float32)

    def logits(self, vector: np.ndarray) -> np.ndarray:
        torch = self.torch
        with torch.no_grad():
            obs = torch.as_tensor(vector, dtype=torch.float32).unsqueeze(0)
            batch = {"obs": {"observations": obs, "action_mask": self._ones}}
            out = self.module.forward_inference(batch)
            return out["action_dist_inputs"][0].numpy()


def policy_network(inputs: int, outputs: int, hidden: list[int]) -> Any:
    """The multi-agent trainer's network: linear layers of ``hidden`` widths, tanh.

    One definition for training (:mod:`peacegame.train.marl`) and for playing
    a saved ``.pt`` policy (the ``torch`` backend).
    """
    from torch import nn

    layers: list[Any] = []
    width = inputs
    for size in hidden:
        layers += [nn.Linear(width, size), nn.Tanh()]
        width = size
    layers.append(nn.Linear(width, outputs))
    return nn.Sequential(*layers)


class _TorchBackend(_Backend):
    """A policy network saved as a state dict of tensors (``trainer: marl``)."""

    def __init__(self, path: Path, where: dict[str, Any], meta: dict[str, Any]):
        try:
            import torch
        except ImportError:
            raise ConfigError(
                "a .pt policy checkpoint needs torch; pip install torch", **where
            ) from None
        self.obs_size = int(meta["obs_size"])
        self.n_actions = int(meta["n_actions"])
        hidden = (meta.get("network") or {}).get("hidden")
        if not isinstance(hidden, list) or not all(isinstance(h, int) for h in hidden):
            raise ConfigError(
                f"{metadata_path(path)} lacks network.hidden (the layer widths); "
                "re-export the checkpoint",
                **where,
            )
        self.net = policy_network(self.obs_size, self.n_actions, hidden)
        try:
            self.net.load_state_dict(torch.load(path, weights_only=True))
        except Exception as exc:  # noqa: BLE001 (any load failure is a user error)
            raise ConfigError(
                f"cannot load policy network {path}: {type(exc).__name__}: {exc}",
                **where,
            ) from None
        self.net.eval()
        self.torch = torch

    def logits(self, vector: np.ndarray) -> np.ndarray:
        with self.torch.no_grad():
            obs = self.torch.as_tensor(vector, dtype=self.torch.float32)
            return self.net(obs.unsqueeze(0))[0].numpy()


class LearnedParams(BaseModel):
    """Parameters of a ``learned`` policy spec.

    Attributes:
        checkpoint: The checkpoint (an SB3 ``.zip``, an RLlib module folder or
            a ``.pt`` policy network).
        sample: Sample from the masked distribution instead of taking the most
            probable legal action.
    """

    model_config = ConfigDict(extra="forbid")

    checkpoint: str
    sample: bool = False


class LearnedPolicy:
    """A trained policy behind the ordinary policy interface.

    Args:
        checkpoint: Path of the checkpoint (see the module doc).
        sample: Sample instead of acting deterministically.
        file: The config file that names it (errors and relative paths).
        field: The config field that names it (errors).

    Raises:
        ConfigError: On a missing, unreadable or inconsistent checkpoint.
    """

    name: ClassVar[str] = "learned"

    def __init__(
        self,
        checkpoint: str | Path,
        sample: bool = False,
        *,
        file: str | None = None,
        field: str = "policy",
    ) -> None:
        self.file = file
        self.field = f"{field}.checkpoint"
        where = {"file": file, "field": self.field}
        self.path = resolve_checkpoint(checkpoint, file=file, field=self.field)
        self.metadata = read_metadata(self.path, file=file, field=self.field)
        self.sample = bool(sample)
        self.actor: str = self.metadata["actor"]
        kind = self.metadata["backend"]
        key = (kind, str(self.path.resolve()), self.path.stat().st_mtime_ns)
        backend = _LOADED.get(key)
        if backend is None:
            if kind == "torch":
                backend = _TorchBackend(self.path, where, self.metadata)
            elif kind == "sb3":
                backend = _SB3Backend(self.path, where)
            else:
                backend = _RllibBackend(self.path, where)
            _LOADED[key] = backend
        self.backend: _Backend = backend
        obs_size = int(self.metadata["obs_size"])
        n_actions = int(self.metadata["n_actions"])
        if (self.backend.obs_size, self.backend.n_actions) != (obs_size, n_actions):
            raise ConfigError(
                f"checkpoint {self.path.name} has observation size "
                f"{self.backend.obs_size} and {self.backend.n_actions} actions but "
                f"its metadata says {obs_size} and {n_actions}",
                **where,
            )
        self.obs_size = obs_size
        self.n_actions = n_actions
        protocol = self.metadata.get("protocol") or {}
        self.actions: str = str(self.metadata.get("actions", "outcome"))
        self.utility_bins = int(protocol.get("utility_bins", 16))
        self.utility_ties = str(protocol.get("utility_ties", "first"))
        self.utility_snap = bool(protocol.get("utility_snap", False))
        self.view: PolicyView | None = None
        self.rng: np.random.Generator | None = None
        self.translator: SlotTranslator | None = None
        self._translator_view: PolicyView | None = None

    @classmethod
    def from_spec(
        cls, *, file: str | None = None, field: str = "policy", **params: Any
    ) -> LearnedPolicy:
        """Build from a spec's parameters (``checkpoint``, ``sample``).

        Raises:
            ConfigError: On unknown or missing parameters, or a bad checkpoint.
        """
        try:
            parsed = LearnedParams(**params)
        except ValidationError as exc:
            raise pydantic_error(
                exc, file=file or "<config>", prefix=field, model=LearnedParams
            ) from None
        return cls(parsed.checkpoint, parsed.sample, file=file, field=field)

    def label(self) -> str:
        """A short label for logs, such as ``learned(ppo_200000_steps)``."""
        mode = ",sample" if self.sample else ""
        return f"learned({self.path.stem}{mode})"

    def _error(self, message: str) -> ConfigError:
        return ConfigError(message, file=self.file, field=self.field)

    def reset(self, agent: str, view: PolicyView, rng: np.random.Generator) -> None:
        """Check the checkpoint fits ``agent`` in this game, then start an episode.

        Raises:
            ConfigError: Another actor, scenario or action count.
        """
        meta = self.metadata
        if agent != self.actor:
            raise self._error(
                f"checkpoint {self.path.name} was trained for actor "
                f"{self.actor!r}, not {agent!r}"
            )
        scenario = meta["scenario"]
        expected = meta.get("view_fingerprint")
        match_hash = getattr(view, "scenario_hash", None)
        if match_hash is None and view.public is not None:
            match_hash = view.public.scenario_hash
        mismatch = (match_hash is not None and match_hash != scenario.get("hash")) or (
            match_hash is None
            and expected is not None
            and expected != view_fingerprint(view)
        )
        if mismatch:
            theirs = f" (hash {match_hash[:12]})" if match_hash else ""
            raise self._error(
                f"checkpoint {self.path.name} was trained on scenario "
                f"{scenario.get('name')!r} (hash {str(scenario.get('hash'))[:12]}); "
                f"this match's scenario differs{theirs}"
            )
        if self.actions == "outcome":
            expected_actions = view.n_outcomes + 3
        else:
            self._translate_for(view)
            assert self.translator is not None
            self.translator.reset()
            expected_actions = self.translator.interface.n_actions
        if expected_actions != self.n_actions:
            raise self._error(
                f"checkpoint {self.path.name} has {self.n_actions} actions; this "
                f"match's scenario has {expected_actions} ({self.actions!r} actions)"
            )
        self.view = view
        self.rng = rng

    def _translate_for(self, view: PolicyView) -> None:
        """Build the engine's translator of the checkpoint's interface once per view.

        Raises:
            ConfigError: If the view offers no translation (a view built
                without an engine slot) or the interface is unknown.
        """
        if self._translator_view is view:
            return
        if view.translators is None:
            raise self._error(
                f"checkpoint {self.path.name} acts in {self.actions!r} actions; "
                "this game offers no action translation (play it in a match or env)"
            )
        try:
            self.translator = view.translators.translator(
                self.actions, self.utility_bins, self.utility_ties, self.utility_snap
            )
        except ValueError as exc:
            raise self._error(f"checkpoint {self.path.name}: {exc}") from None
        self._translator_view = view

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> int:
        """Return the most probable (or a sampled) legal action.

        Raises:
            ConfigError: If the observation size differs from training's.
        """
        vector = observation["observation"]
        mask = observation["action_mask"]
        translator = self.translator
        extra = translator.interface.extra_size if translator is not None else 0
        if vector.shape[0] + extra != self.obs_size:
            raise self._error(
                f"checkpoint {self.path.name} expects observations of size "
                f"{self.obs_size}, this match gives {vector.shape[0] + extra} "
                "(another protocol: information or history_length?)"
            )
        wait = mask.shape[0] - 1
        if not mask[:wait].any():  # nothing to do (parallel env): WAIT
            return wait
        if translator is None:
            return self._choose(vector, mask)
        assert self.view is not None, "reset() must be called before act()"
        actor = self.view.index
        rows = np.zeros((len(self.view.actors), vector.shape[0]), np.float32)
        while True:  # an issues proposal: one sub-step per issue
            rows[actor] = vector
            choice = self._choose(
                translator.observation(rows, actor), translator.mask(actor)
            )
            concrete = translator.translate(actor, choice)
            if concrete != SUBSTEP:
                return concrete  # ILLEGAL (-2) cannot come from a masked choice

    def _choose(self, vector: np.ndarray, mask: np.ndarray) -> int:
        """The most probable (or a sampled) action allowed by ``mask``."""
        logits = self.backend.logits(vector).astype(np.float64)
        logits[mask == 0] = -np.inf
        if not self.sample:
            return int(np.argmax(logits))
        assert self.rng is not None, "reset() must be called before act()"
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        return int(self.rng.choice(probs.size, p=probs))

    def action_logits(self, vector: np.ndarray) -> np.ndarray:
        """The network's unmasked logits for one observation vector."""
        return self.backend.logits(vector)


__all__ = [
    "METADATA_FORMAT",
    "LearnedPolicy",
    "metadata_path",
    "policy_network",
    "read_metadata",
    "resolve_checkpoint",
    "view_fingerprint",
    "write_metadata",
]
