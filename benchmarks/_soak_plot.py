"""The soak benchmark's PNG: throughput vs input rate, lag, p99 latency and memory over time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLORS = {"logwatch": "tab:blue", "bitcoin": "tab:orange"}


def plot(result: dict[str, Any], path: Path) -> None:
    """Four panels sharing the time axis (minutes), drawn with matplotlib's Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = result["samples"][1:] or result["samples"]  # the first interval holds the start-up
    t = [s["t_s"] / 60 for s in samples]
    names = list(result["parameters"]["rates"])
    fig, ax = plt.subplots(4, 1, figsize=(9, 11), sharex=True)
    for n in names:
        c = COLORS.get(n)
        per = [s["pipelines"][n] for s in samples]
        ax[0].plot(t, [p["throughput"] for p in per], color=c, label=f"{n} processed")
        ax[0].plot(t, [p["in_rate"] for p in per], color=c, ls="--", alpha=0.6, label=f"{n} written")
        ax[0].axhline(result["parameters"]["rates"][n], color=c, ls=":", alpha=0.6)
        ax[1].plot(t, [p["lag_s"] for p in per], color=c, label=n)
        ax[2].plot(t, [p["latency_p99_max_ms"] for p in per], color=c, label=f"{n} max p99 in interval")
        ax[2].plot(t, [p["latency_p50_ms"] for p in per], color=c, ls=":", alpha=0.7,
                   label=f"{n} p50 (latest)")
    ax[0].set_ylabel("events/s")
    ax[0].set_title("throughput per pipeline (dashed: written, dotted: target input rate)", fontsize=9)
    ax[1].set_ylabel("lag (s of input)")
    ax[2].set_ylabel("append->store (ms)")
    ax[2].set_yscale("log")
    for key, label in (("driver_rss_mb", "driver (Python)"), ("jvm_rss_mb", "JVM"),
                       ("workers_rss_mb", "Python workers"),
                       ("jvm_old_gen_after_gc_mb", "JVM old gen after GC")):
        if any(s.get(key) is not None for s in samples):
            ax[3].plot(t, [s.get(key) for s in samples], label=label, ls="--" if "old gen" in label else "-")
    ax[3].set_ylabel("MB (RSS; dashed: live heap)")
    ax[3].set_xlabel("elapsed (min)")
    for a in ax:
        a.grid(True, alpha=0.3)
        a.legend(fontsize=7, loc="upper left")
    p, s, m = result["parameters"], result["summary"], result["machine"]
    fig.suptitle(f"riverbed soak: {p['rate']:g} events/s for {p['duration_s']:g} s on {m['cpus']} cpus "
                 f"(load {m['load_avg_start'][0]}->{m['load_avg_end'][0]}); bounded_lag="
                 f"{s.get('bounded_lag')} flat_memory={s.get('flat_memory')}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
