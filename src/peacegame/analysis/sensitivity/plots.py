"""Plots of a sensitivity run (matplotlib, Agg): tornado, histograms, indices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from peacegame.analysis.sensitivity.summary import question_label

TOP = 15


def write_plots(
    doc: dict[str, Any], answers: dict[str, np.ndarray], folder: Path
) -> list[Path]:
    """Write ``tornado.png``, ``histograms.png`` and (Sobol'/Morris) ``indices.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    q = doc["question"] or {}
    noun = q.get("noun", "outcomes")
    if q.get("feature"):
        what = f"{noun} {doc['focus_name']} accepts with {question_label(q)}"
    elif q:
        what = f"{noun} {doc['focus_name']} accepts beyond {question_label(q)}"
    else:
        what = f"{noun} accepted"
    base = doc["nominal"]["accepts_with"]

    swing = [s for s in doc["one_at_a_time"] if s["swing"] > 0][:TOP][::-1]
    fig, ax = plt.subplots(figsize=(8, 0.4 * max(len(swing), 3) + 1.5))
    for i, s in enumerate(swing):
        lo, hi = s["low"] - base, s["high"] - base
        ax.barh(i, lo, left=base, color="#4c72b0", label="low end" if i == 0 else None)
        ax.barh(i, hi, left=base, color="#dd8452", label="high end" if i == 0 else None)
    ax.axvline(base, color="k", lw=0.8)
    ax.set_yticks(range(len(swing)), [s["label"] for s in swing], fontsize=8)
    ax.set_xlabel(what)
    ax.set_title("One at a time: each number at its range ends (others at value)")
    if swing:
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    paths.append(folder / "tornado.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    panels = [
        (answers["accepts_with"], what, base),
        (answers["zone_with"], "zone of agreement added", doc["nominal"]["zone_with"]),
        (answers["zone"], "zone of agreement", doc["nominal"]["zone"]),
    ]
    for ax, (x, label, nominal) in zip(axes, panels, strict=True):
        ax.hist(x, bins=40, color="#4c72b0")
        ax.axvline(nominal, color="#c44e52", lw=1.2, label="nominal")
        ax.set_xlabel(label, fontsize=9)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("calibrations")
    fig.suptitle(f"{doc['scenario']}: {doc['calibrations']:,} calibrations")
    fig.tight_layout()
    paths.append(folder / "histograms.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    idx = doc["indices"].get("accepts_with")
    if idx is not None:
        labels = {p["name"]: p["label"] for p in doc["parameters"]}
        if doc["method"] == "sobol":
            a, b, names = np.asarray(idx["S1"]), np.asarray(idx["ST"]), ("S1", "ST")
        else:
            a, b = np.asarray(idx["mu_star"]), np.asarray(idx["sigma"])
            names = ("mu*", "sigma")
        order = np.argsort(-b if doc["method"] == "sobol" else -a)[:TOP][::-1]
        fig, ax = plt.subplots(figsize=(8, 0.4 * max(len(order), 3) + 1.5))
        pos = np.arange(len(order))
        ax.barh(pos - 0.2, a[order], height=0.4, label=names[0])
        ax.barh(pos + 0.2, b[order], height=0.4, label=names[1])
        ax.set_yticks(
            pos,
            [labels.get(idx["names"][k], idx["names"][k]) for k in order],
            fontsize=8,
        )
        ax.set_title(f"Sensitivity of the effect size ({doc['method']})")
        ax.legend(fontsize=8)
        fig.tight_layout()
        paths.append(folder / "indices.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths
