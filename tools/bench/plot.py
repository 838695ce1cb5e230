# SPDX-License-Identifier: GPL-2.0
"""A benchmark's table as a plot: seconds by touched memory, log-log.

  plot.py TABLE PNG TITLE 'PANEL=COLUMN:LABEL,...' ...

TABLE: a header line of column names (the first: mib), then rows of
numbers; one panel per PANEL argument, a line per COLUMN."""

import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(table, png, title, panels):
    rows = [line.split() for line in open(table)]
    head, rows = rows[0], [[float(x) for x in r] for r in rows[1:]]
    col = {n: [r[i] for r in rows] for i, n in enumerate(head)}
    fig, ax = plt.subplots(1, len(panels), figsize=(3 + 4 * len(panels), 4.5))
    for a, panel in zip(ax, panels):
        name, _, lines = panel.partition("=")
        for line in lines.split(","):
            key, _, label = line.partition(":")
            a.plot(col["mib"], col[key], marker="o", label=label)
        a.set_xscale("log", base=2)
        a.set_yscale("log")
        a.set_xlabel("touched memory (MiB)")
        a.set_ylabel("seconds")
        a.set_title(name)
        a.grid(True, which="both", alpha=0.3)
        a.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    print("  plot: %s" % png)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
