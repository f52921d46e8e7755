"""The repository itself: one dependency list in two files, clean parameterised notebooks, data/ ignored."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
REQUIRED_PARAMETERS = {"PROFILE", "DATASET", "DATA_DIR", "SEED"}


def _name(requirement: str) -> str:
    """'scikit_image>=0.22' / 'Pillow [extra]' / 'python=3.11' -> 'scikit-image' / 'pillow' / 'python'."""
    name = re.split(r"[\s<>=!~\[;@]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _environment() -> dict:
    return yaml.safe_load((REPO / "environment.yml").read_text())


def test_normalised_names():
    assert _name("scikit_image>=0.22") == "scikit-image"
    assert _name("Pillow [extra] >= 10") == "pillow"
    assert _name("python=3.11") == "python"
    assert _name("tensorflow-cpu>=2.16") == "tensorflow-cpu"


def test_environment_and_pyproject_list_the_same_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    from_pyproject = [*project["dependencies"], *project["optional-dependencies"]["dev"]]

    conda, pip = [], []
    for entry in _environment()["dependencies"]:
        if isinstance(entry, dict):
            pip += entry.get("pip", [])
        else:
            conda.append(str(entry))
    from_environment = [e for e in conda + pip if not e.strip().startswith("-e")]
    ignored = {"python", "pip"}
    pyproject_names = {_name(r) for r in from_pyproject} - ignored
    environment_names = {_name(r) for r in from_environment} - ignored

    assert len(pyproject_names) == len(from_pyproject), "a dependency is listed twice in pyproject.toml"
    assert pyproject_names - environment_names == set(), "in pyproject.toml but not environment.yml"
    assert environment_names - pyproject_names == set(), "in environment.yml but not pyproject.toml"
    assert any(e.strip().startswith("-e .") for e in pip), "environment.yml should install the package itself"


def test_environment_pins_python_3_11():
    pythons = [str(e) for e in _environment()["dependencies"] if isinstance(e, str) and _name(e) == "python"]
    assert len(pythons) == 1
    assert re.fullmatch(r"python\s*=+\s*3\.11(\.\*)?", pythons[0].strip()), pythons[0]


# --- notebooks -----------------------------------------------------------------------------------


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) and \
        isinstance(node.operand, ast.Constant)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2, f"expected the course notebooks in {REPO / 'notebooks'}"


notebook_param = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])


@notebook_param
def test_notebook_name(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name)


@notebook_param
def test_notebook_is_committed_without_outputs(path):
    for index, cell in enumerate(_cells(path)):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"cell {index} has outputs"
            assert cell.get("execution_count") is None, f"cell {index} has an execution count"


@notebook_param
def test_notebook_has_one_literal_parameters_cell(path):
    tagged = [cell for cell in _cells(path) if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{len(tagged)} cells tagged 'parameters'"
    cell = tagged[0]
    assert cell["cell_type"] == "code"
    assigned = set()
    for statement in ast.parse(_source(cell)).body:
        assert isinstance(statement, ast.Assign), f"not an assignment: {ast.unparse(statement)}"
        assert _is_literal(statement.value), f"not a literal: {ast.unparse(statement)}"
        for target in statement.targets:
            assert isinstance(target, ast.Name)
            assigned.add(target.id)
    assert REQUIRED_PARAMETERS <= assigned, f"missing {REQUIRED_PARAMETERS - assigned}"


@notebook_param
def test_notebook_structure(path):
    cells = _cells(path)
    assert cells[0]["cell_type"] == "markdown" and _source(cells[0]).startswith("# ")
    assert any(cell["cell_type"] == "markdown" and _source(cell).lstrip().splitlines()[0].strip() == "## Setup"
               for cell in cells if _source(cell).strip())
    code = "\n".join(_source(cell) for cell in cells if cell["cell_type"] == "code")
    assert "sys.path" not in code
    assert re.search(r"^\s*(import colorize\b|from colorize[\s.])", code, flags=re.MULTILINE), \
        "the notebook does not import colorize"


def _headings(cells) -> list[tuple[int, str]]:
    return [(index, line.strip()) for index, cell in enumerate(cells) if cell["cell_type"] == "markdown"
            for line in _source(cell).splitlines() if line.startswith("## ")]


@notebook_param
def test_notebook_ends_like_a_lesson(path):
    """Takeaways, then exercises, linked references, links to the neighbouring lessons, and a
    last cell that closes the lesson with its claims line."""
    cells = _cells(path)
    headings = dict((title, index) for index, title in _headings(cells))
    assert "## Try it yourself" in headings and "## References" in headings, sorted(headings)
    assert headings["## Try it yourself"] < headings["## References"]
    exercises = _source(cells[headings["## Try it yourself"]])
    assert len(re.findall(r"^\s*(?:\d+\.|-) ", exercises, flags=re.MULTILINE)) >= 2, "fewer than 2 exercises"
    references = "".join(_source(cell) for cell in cells[headings["## References"]:] if cell["cell_type"] == "markdown")
    assert re.search(r"\]\(https?://", references), "References cite no linked paper"
    number = int(path.name[:2])
    neighbours = [p.name for p in NOTEBOOKS if abs(int(p.name[:2]) - number) == 1]
    for neighbour in neighbours:
        assert f"]({neighbour})" in references, f"no link to {neighbour}"
    assert cells[-1]["cell_type"] == "code" and "lesson.finish(" in _source(cells[-1]), \
        "the last cell must be lesson.finish(...), which prints the claims line"


# --- data/ -------------------------------------------------------------------------------------


def test_data_folder_is_ignored_but_its_readme_is_not():
    lines = [line.strip() for line in (REPO / ".gitignore").read_text().splitlines()]
    ignore = [i for i, line in enumerate(lines) if line in ("/data/*", "data/*", "/data/**", "data/**")]
    keep = [i for i, line in enumerate(lines) if line in ("!/data/README.md", "!data/README.md")]
    assert ignore, ".gitignore must ignore the contents of data/ (as /data/*, so a negation can work)"
    assert keep and max(keep) > min(ignore), ".gitignore must un-ignore data/README.md after ignoring data/*"
    assert "/data/" not in lines and "data/" not in lines, "ignoring the folder itself makes '!' impossible"
    assert (REPO / "data" / "README.md").is_file()
