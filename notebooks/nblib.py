"""Shared set-up for the notebooks: where the `report` binary and the output folder are.

Environment:
  REPORT  the report binary (default: .build/release/report, built once if missing)
  OUT     where the notebook writes its files (default: out/notebooks/<notebook name>)
  QUICK   1 for a fast run with smaller grids (the test suite uses it)
"""
import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: figures are saved, never shown in a window
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUICK = os.environ.get("QUICK", "0") == "1"


def quick(full, small):
    """The value for this run: `small` when QUICK=1, else `full`."""
    return small if QUICK else full


def report_binary() -> Path:
    """The `report` binary: $REPORT, or the release build (built if missing)."""
    given = os.environ.get("REPORT")
    if given:
        return Path(given)
    binary = ROOT / ".build" / "release" / "report"
    if not binary.exists():
        subprocess.run(["swift", "build", "-c", "release", "--product", "report"], cwd=ROOT, check=True,
                       stdout=sys.stderr)
    return binary


class Notebook:
    """One notebook's output folder and its calls to `report`."""

    def __init__(self, name: str):
        self.name = name
        self.out = Path(os.environ.get("OUT", ROOT / "out" / "notebooks" / name))
        self.out.mkdir(parents=True, exist_ok=True)
        self.binary = report_binary()

    def report(self, *args) -> str:
        """Runs `report ARGS...`; returns its standard output, raises if it fails."""
        cmd = [str(self.binary), *[str(a) for a in args]]
        print("$ report " + " ".join(cmd[1:]))
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"report {' '.join(cmd[1:])} failed ({done.returncode}):\n{done.stderr}")
        return done.stdout

    def path(self, *parts) -> Path:
        return self.out.joinpath(*parts)

    def save(self, fig, stem: str):
        """Saves a figure as PNG and SVG in the output folder and closes it."""
        fig.tight_layout()
        for ext in ("png", "svg"):
            fig.savefig(self.path(f"{stem}.{ext}"), dpi=120)
        plt.close(fig)
        print(f"figure: {self.path(stem + '.png')}")


def say(text: str):
    """Prints a conclusion, so that a plain run reads like the notebook."""
    print("\n" + text.strip() + "\n")
