"""Training learned policies: SB3 MaskablePPO, iterated best response, RLlib.

Nothing here is imported by the lower layers, and no module imports torch,
Stable-Baselines3 or Ray at import time: the ``train`` and ``ray`` extras are
optional, and a missing one is a one-line :class:`~peacegame.errors.UserError`
(see :mod:`peacegame.train.deps`).

Modules:
    config: the train and sweep config models (``configs/train/*.yaml``).
    sb3_adapter: one learner against configured opponents as a gymnasium env.
    sb3_train: MaskablePPO training with checkpoints, curves and ``--resume``.
    self_play: iterated best response over SB3 snapshots.
    rllib_env: the negotiation as an RLlib multi-agent env, scripted modules.
    rllib_train: RLlib PPO (new API stack), one RL module per actor.
    sweep: Ray Tune sweeps over any train config.
    evaluate: held-out evaluation against scripted baselines, plots.
    commands: the ``train`` and ``evaluate`` subcommands.
"""
