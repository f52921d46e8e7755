"""What every lesson does first and last: set up, say which data it used, leave a summary line.

``reports/index.html`` and ``reports/README.md`` are built from the executed notebooks in
``reports/`` and the summary each lesson recorded (``python -m colorize.reporting``).
"""

from __future__ import annotations

import html
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from colorize import config, plots
from colorize.claims import ClaimLedger, course_total, show_markdown
from colorize.data.sources import Dataset, load_dataset

SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class Lesson:
    """What a lesson's Setup hands to the rest of the notebook."""

    name: str
    profile: config.Profile
    dataset: Dataset
    seed: int
    claims: ClaimLedger = field(default_factory=ClaimLedger)
    started: float = field(default_factory=time.perf_counter)

    def check(self, claim: str, holds: bool, measured: str) -> bool:
        """Check a claim of the lesson's prose against this run (see :mod:`colorize.claims`)."""
        return self.claims.check(claim, holds, measured)

    def check_winner(self, comparison, winner: str | None, claim: str | None = None) -> bool:
        """Check that a paired comparison names ``winner`` (None: not measurable here)."""
        return self.claims.check_winner(comparison, winner, claim)

    def say(self, markdown: str) -> None:
        """A sentence computed from the results, rendered in the report."""
        _say(markdown)

    @property
    def full(self) -> bool:
        """Whether this is a run whose claims must hold (not a quick profile)."""
        return self.claims.warns

    def finish(self, budget_minutes: float | None = None) -> str:
        """The lesson's last cell: its time against its budget, then ``Claims checked: N, held: M``
        (kept in the summary for the course total)."""
        minutes = (time.perf_counter() - self.started) / 60
        if budget_minutes is not None:
            print(f"This lesson took {minutes:.1f} min (budget {budget_minutes:g} min under the full profile).")
        write_summary(self.name, {"claims": self.claims.to_dict(), "minutes": round(minutes, 2)})
        line = self.claims.closing_line()
        print(line)
        return line


#: The lesson being run (its profile decides which recorded runs later lessons see).
_current: dict = {}


def _say(markdown: str) -> None:
    """Markdown in a notebook (so it renders in the report), plain text elsewhere."""
    show_markdown(markdown)


def start_lesson(name: str, profile: str = "full", dataset: str = "auto", data_dir: str | None = None,
                 seed: int = config.SEED, **profile_overrides) -> Lesson:
    """Seed everything, set the figure style and folder, load the dataset and say which it is."""
    config.set_seed(seed)
    plots.use_style()
    _current.update(notebook=name, profile=config.get_profile(profile, **profile_overrides).name)
    chosen = config.get_profile(profile, **profile_overrides)
    data = load_dataset(dataset, data_dir=data_dir or None, profile=chosen)
    _say(f"**{data.describe()}**  \nProfile `{chosen.name}`: {chosen.description}. Seed {seed}.")
    _summary_path(name).unlink(missing_ok=True)  # a re-run records itself afresh (claims, runs)
    write_summary(name, {"dataset": data.describe(), "profile": chosen.name})
    return Lesson(name, chosen, data, seed, ClaimLedger(chosen.name))


def _notebook(notebook: str | None = None) -> str:
    """``notebook``, else the lesson being run (``scratch`` outside a lesson)."""
    return notebook or _current.get("notebook", "scratch")


def figure_dir(notebook: str | None = None) -> Path:
    """``reports/figures/<notebook>/``: where a lesson's figures and its summary go."""
    return config.reports_dir() / "figures" / _notebook(notebook)


def save_fig(fig, name: str, key: bool = False) -> Path:
    """Save ``fig`` as ``reports/figures/<lesson>/<name>.png`` (``.jpg`` for a
    :func:`colorize.plots.is_photographic` figure); ``key=True`` makes it the figure the reports
    index shows."""
    folder = figure_dir()
    folder.mkdir(parents=True, exist_ok=True)
    if plots.is_photographic(fig):
        path = folder / f"{name}.jpg"
        fig.savefig(path, pil_kwargs={"quality": plots.PHOTO_JPEG_QUALITY})
    else:
        path = folder / f"{name}.png"
        fig.savefig(path)
    if key:
        set_key_figure(_notebook(), path)
    return path


def _summary_path(notebook: str) -> Path:
    return figure_dir(notebook) / SUMMARY_FILE


def write_summary(notebook: str, fields: dict) -> None:
    """Add ``fields`` to what ``notebook`` has recorded about itself (kept across re-runs)."""
    path = _summary_path(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    current = read_summary(notebook)
    current.update(fields)
    path.write_text(json.dumps(current, indent=2))


def set_key_figure(notebook: str, figure: Path) -> None:
    write_summary(notebook, {"key_figure": Path(figure).name})


def record_summary(line: str, notebook: str | None = None) -> None:
    """The one line the reports index shows for this lesson (a measured result, not a promise)."""
    write_summary(_notebook(notebook), {"summary": line})
    _say(f"**Summary:** {line}")


def _current_profile() -> str:
    return _current.get("profile", "full")


def record_runs(runs: dict, notebook: str | None = None, profile: str | None = None) -> None:
    """Remember which training runs this lesson's headline models are (by label), so later
    lessons and the ``colorize`` command find them without retraining or guessing folder names.
    The record lives with the runs (:mod:`colorize.registry`), not in the reports."""
    from colorize import registry

    registry.record_runs(_notebook(notebook), profile or _current_profile(),
                         {label: run.name for label, run in runs.items()})


def read_summary(notebook: str) -> dict:
    """What a lesson recorded about itself (dataset, summary line, claims), or {} if it has not run."""
    path = _summary_path(notebook)
    return json.loads(path.read_text()) if path.is_file() else {}


def recorded_runs(notebooks: list[str], report_missing: bool = True, profile: str | None = None) -> dict:
    """The runs earlier lessons recorded, by label; says which lessons have none (not run yet)."""
    from colorize import registry
    from colorize.runs import find_run

    found = {}
    for notebook in notebooks:
        names = registry.recorded_names(notebook, profile or _current_profile())
        runs = {label: find_run(name) for label, name in names.items()}
        missing = [label for label, run in runs.items() if run is None]
        if report_missing and (not names or missing):
            print(f"{notebook}: {'no runs recorded' if not names else 'runs missing: ' + ', '.join(missing)}"
                  f" - run that lesson first (make all) to include its models.")
        found.update({label: run for label, run in runs.items() if run is not None})
    return found


# --- the index -------------------------------------------------------------------------------

def _title_of(notebook: dict) -> str:
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def _failed(notebook: dict) -> bool:
    return any(output.get("output_type") == "error"
               for cell in notebook.get("cells", []) for output in cell.get("outputs", []))


def lesson_entries(reports: Path | None = None) -> list[dict]:
    """One entry per executed notebook ``reports/NN_*.ipynb``: title, summary, key figure, status."""
    reports = reports or config.reports_dir()
    entries = []
    for path in sorted(reports.glob("[0-9][0-9]_*.ipynb")):
        notebook = json.loads(path.read_text())
        summary_file = reports / "figures" / path.stem / SUMMARY_FILE
        summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
        figure = summary.get("key_figure")
        entries.append({
            "notebook": path.name,
            "stem": path.stem,
            "title": _title_of(notebook) or path.stem,
            "summary": summary.get("summary", "(no summary recorded: the lesson did not finish)"),
            "dataset": summary.get("dataset", ""),
            "figure": f"figures/{path.stem}/{figure}" if figure else None,
            "failed": _failed(notebook),
            "claims": summary.get("claims", {}),
        })
    return entries


#: The leaderboard columns the reports index shows (all of them are in leaderboard.csv).
INDEX_LEADERBOARD = {"model": "model", "psnr": "PSNR dB", "auc": "raw AuC", "colorfulness_ratio": "colourfulness ratio",
                     "parameters": "parameters", "train_seconds": "train s", "inference_ms_per_megapixel": "ms / MP"}


def _leaderboard_table(board):
    shown = board[list(INDEX_LEADERBOARD)].rename(columns=INDEX_LEADERBOARD)
    formats = {"PSNR dB": "{:.2f}", "raw AuC": "{:.4f}", "colourfulness ratio": "{:.2f}", "parameters": "{:,.0f}",
               "train s": "{:.0f}", "ms / MP": "{:.0f}"}
    for column, pattern in formats.items():
        shown[column] = [("–" if value != value else pattern.format(value)) for value in shown[column]]  # NaN: –
    return shown


def leaderboard_markdown(board) -> list[str]:
    """The leaderboard (lesson 08) as a Markdown table, for ``reports/README.md``."""
    shown = _leaderboard_table(board)
    lines = ["| " + " | ".join(shown.columns) + " |", "|" + "---|" * len(shown.columns)]
    lines += ["| " + " | ".join(str(value) for value in row) + " |" for row in shown.itertuples(index=False)]
    return lines


def build_index(reports: Path | None = None) -> tuple[Path, Path]:
    """Write ``reports/index.html`` (local, links the HTML reports) and ``reports/README.md``
    (for browsing the committed notebooks online)."""
    reports = reports or config.reports_dir()
    entries = lesson_entries(reports)
    md = ["# Course reports", "",
          "Executed copies of every lesson, produced by `make all`. Each links to its notebook; "
          "figures live in `figures/<lesson>/`. Every claim a lesson's prose makes about its numbers is checked "
          "by code in the lesson; a claim the run does not support is shown there as a warning box.", "",
          f"**{claims_total(entries)}.**", ""]
    cards = []
    from colorize.evaluation import LEADERBOARD_FILE, read_leaderboard

    board = read_leaderboard(reports)
    if board is not None:
        md += ["## Leaderboard", "", f"Every model of the course on the test photos, from lesson 08 "
               f"([{LEADERBOARD_FILE}]({LEADERBOARD_FILE}) has every column).", "", *leaderboard_markdown(board), ""]
        cards.append(f"<section><h2>Leaderboard</h2>{_leaderboard_table(board).to_html(index=False, border=0)}"
                     f'<p class="data">All columns: <a href="{LEADERBOARD_FILE}">{LEADERBOARD_FILE}</a></p></section>')
    for entry in entries:
        status = " — **FAILED: see the error in the notebook**" if entry["failed"] else ""
        claims = entry["claims"]
        claims_line = f"Claims checked: {claims['checked']}, held: {claims['held']}" if claims else ""
        md += [f"## [{entry['title']}]({entry['notebook']}){status}", "", entry["summary"], "",
               f"*{entry['dataset']}*" + (f" · {claims_line}" if claims_line else ""), ""]
        if entry["figure"]:
            md += [f"![{entry['title']}]({entry['figure']})", ""]
        figure_html = f'<img src="{html.escape(entry["figure"])}" alt="key figure">' if entry["figure"] else ""
        cards.append(
            f'<section class="{"failed" if entry["failed"] else ""}"><h2><a href="{entry["stem"]}.html">'
            f'{html.escape(entry["title"])}</a>{" — FAILED" if entry["failed"] else ""}</h2>'
            f'<p>{html.escape(entry["summary"])}</p><p class="data">{html.escape(entry["dataset"])}'
            f'{html.escape(" · " + claims_line) if claims_line else ""}</p>'
            f"{figure_html}</section>"
        )
    readme = reports / "README.md"
    readme.write_text("\n".join(md))
    page = reports / "index.html"
    page.write_text(
        "<!doctype html><meta charset='utf-8'><title>Colorization course reports</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "section{border-bottom:1px solid #ddd;padding:1rem 0}img{max-width:100%}"
        ".data{color:#666;font-size:.9em}.failed h2{color:#b00}</style>"
        "<h1>Colorization course reports</h1>" + "".join(cards)
    )
    return page, readme


def claims_total(entries: list[dict]) -> str:
    """The course's claims over every executed lesson, in one line."""
    checked, held = course_total(entries)
    unmet = [entry["stem"] for entry in entries
             if entry["claims"] and entry["claims"].get("held") != entry["claims"].get("checked")]
    return (f"Course claims checked: {checked}, held: {held}"
            + (f" (not held in: {', '.join(unmet)})" if unmet else ""))


def main(argv: list[str] | None = None) -> int:
    page, readme = build_index()
    entries = lesson_entries()
    print(f"Wrote {config.display_path(page)} and {config.display_path(readme)}: {len(entries)} lesson(s), "
          f"{sum(e['failed'] for e in entries)} failed.")
    print(claims_total(entries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
