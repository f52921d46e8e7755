"""The committed reports are what readers see without running anything: they must not show the
machine they ran on, library noise, tracebacks, object reprs or run hashes, and every lesson
must end with its claims line, all claims held."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from colorize.claims import CLOSING_FORMAT

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"
EXECUTED = sorted(REPORTS.glob("[0-9][0-9]_*.ipynb"))

#: What must never reach a reader, by the reason it is there.
FORBIDDEN = {
    "absolute path": re.compile(r"(?<![\w.~])/(?:work|root|home|tmp|usr|opt|var|private|Users)/"),
    "virtual environment": re.compile(r"site-packages|\.venv/lib"),
    "warning": re.compile(r"\b\w*Warning\b|WARNING|warnings\.warn"),
    "traceback": re.compile(r"Traceback \(most recent call last\)"),
    "logger noise": re.compile(r"\b[EIW]0000\b|absl::|oneDNN|\[IPKernelApp\]|WARNING:tensorflow"),
    "object repr": re.compile(r"<[\w.]+ (?:object )?at 0x[0-9a-f]+>|<function \w"),
    "run hash": re.compile(r"-(?:full|smoke)-[0-9a-f]{8}\b"),
    "retraining hint": re.compile(r"force=True"),
}
CLAIMS_LINE = re.compile("^" + re.escape(CLOSING_FORMAT).replace(r"\{checked\}", r"(\d+)").replace(r"\{held\}", r"(\d+)")
                         + "$", re.MULTILINE)


def findings(text: str) -> list[str]:
    return [f"{reason}: {match.group(0)!r}" for reason, pattern in FORBIDDEN.items() for match in pattern.finditer(text)]


def output_texts(notebook: dict) -> list[tuple[int, str]]:
    """Every piece of text a reader sees in a cell's outputs (images excluded), by cell index."""
    texts = []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                texts.append((index, "Traceback (most recent call last) " + output.get("ename", "")))
            if "text" in output:
                texts.append((index, "".join(output["text"])))
            for kind, value in output.get("data", {}).items():
                if kind.startswith("text/"):
                    texts.append((index, "".join(value)))
    return texts


def test_the_scan_catches_what_it_is_for():
    """Planted positives: each kind of leak is found, and clean text passes."""
    planted = [
        "Dataset: bsds500 (local copy at /work/shared/data/bsds500)",
        "/root/.venv/lib/python3.11/site-packages/tqdm/auto.py:21: TqdmWarning: IProgress not found",
        "E0000 00:00:1795457472.118035 node_def_util.cc:682] NodeDef mentions attribute",
        "WARNING:tensorflow:5 out of the last 8 calls to <function ModelColorizer._forward at 0x7f661ce047c0>",
        "Training unet-mse-lr0.01-e10-bsds500-full-28c5aa58: 2,163,570 parameters",
        "Reusing finished run; pass force=True to retrain.",
    ]
    for text in planted:
        assert findings(text), text
    assert not findings("Dataset: bsds500 (local copy at ../shared/data/bsds500): 200 train / 100 val / 200 test photos.")
    assert not findings("PSNR 23.07 dB (95 % CI +1.31 to +1.75, 200 photos); see reports/leaderboard.csv")


@pytest.mark.parametrize("path", EXECUTED, ids=[path.stem for path in EXECUTED])
def test_executed_report_is_clean_and_ends_with_its_claims(path):
    notebook = json.loads(path.read_text())
    texts = output_texts(notebook)
    problems = [f"cell {index}: {finding}" for index, text in texts for finding in findings(text)]
    markdown = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    problems += [f"markdown: {finding}" for finding in findings(markdown)]
    assert not problems, "\n".join(problems)

    lines = [(index, match) for index, text in texts for match in CLAIMS_LINE.finditer(text)]
    assert len(lines) == 1, f"expected exactly one claims line, found {len(lines)}"
    index, match = lines[0]
    code_cells = [i for i, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code"]
    assert index == code_cells[-1], "the claims line must come from the report's last cell"
    last_text = [text for i, text in texts if i == index][-1].rstrip()
    assert last_text.endswith(match.group(0)), "the claims line must be the last thing the report prints"
    checked, held = int(match.group(1)), int(match.group(2))
    if not path.stem.startswith("01_"):
        assert checked >= 5, f"{path.stem} checks only {checked} claims"
    assert held == checked, f"{path.stem}: {checked - held} claim(s) not held in the committed report"


def test_summaries_readme_and_leaderboard_are_clean():
    files = [*sorted((REPORTS / "figures").glob("*/summary.json")), REPORTS / "README.md", ROOT / "README.md",
             REPORTS / "leaderboard.csv"]
    problems = [f"{path.relative_to(ROOT)}: {finding}" for path in files if path.is_file()
                for finding in findings(path.read_text()) if not finding.startswith("retraining hint")]
    assert not problems, "\n".join(problems)


def test_every_summary_records_its_claims():
    for path in EXECUTED:
        summary = json.loads((REPORTS / "figures" / path.stem / "summary.json").read_text())
        assert summary["claims"]["held"] == summary["claims"]["checked"] == len(summary["claims"]["list"]), path.stem


def test_the_committed_leaderboard_marks_the_model_lesson_08_recommends():
    import pandas as pd

    board = pd.read_csv(REPORTS / "leaderboard.csv")
    chosen = board.loc[board["recommended"], "model"].tolist()
    assert len(chosen) == 1, f"{len(chosen)} rows marked recommended"
    summary = json.loads((REPORTS / "figures" / "08_evaluation" / "summary.json").read_text())["summary"]
    assert f"Recommended: {chosen[0]} (" in summary
