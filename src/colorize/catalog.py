"""Which trained models the course has, and which one colorizes photos by default.

Lessons 03-07 record their headline runs by label in :mod:`colorize.registry` (``models/``);
lesson 08 scores them all and records the one it recommends. The ``colorize`` command uses that
recommendation, or, before lesson 08 has run, the first lesson's model found in
:data:`FALLBACK_LESSONS`, or else the newest run in ``models/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from colorize import config, registry
from colorize.config import ColorizeError

TRAINING_LESSONS = ["03_baseline_cnn", "04_autoencoder", "05_unet", "06_gan", "07_colorful_classification"]
EVALUATION_LESSON = "08_evaluation"
#: Before lesson 08 has chosen: the GAN's vivid colours first, then the most faithful U-Net.
FALLBACK_LESSONS = ["06_gan", "05_unet", "07_colorful_classification", "03_baseline_cnn", "04_autoencoder"]
NO_MODEL_HINT = ("no trained model yet: run `make all` in the course folder to train the lessons' models "
                 "(or pass --model PATH to a run folder or .keras file)")


@dataclass
class ChosenModel:
    """A model ready to colorize, and how to describe it to the user."""

    description: str
    colorizer: object  # colorize.predict.ModelColorizer


def _profile(profile: str | None) -> str:
    """The profile whose runs to use: the one asked for, else the preferred recorded one."""
    return profile or next(iter(registry.profiles()), "full")


def recorded_runs(lesson: str, profile: str | None = None, report_missing: bool = False) -> dict:
    """{label: run} that ``lesson`` recorded under ``profile`` and that is still on disk."""
    from colorize.runs import find_run

    names = registry.recorded_names(lesson, _profile(profile))
    runs = {label: find_run(name) for label, name in names.items()}
    missing = [label for label, run in runs.items() if run is None]
    if report_missing and (not names or missing):
        print(f"{lesson}: {'no runs recorded' if not names else 'runs missing: ' + ', '.join(missing)}"
              f" - run that lesson first (make all) to include its models.")
    return {label: run for label, run in runs.items() if run is not None}


def runs_by_lesson(report_missing: bool = False, profile: str | None = None) -> dict[str, dict]:
    """lesson -> {label: run} of every run lessons 03-07 recorded and that is still on disk."""
    return {lesson: recorded_runs(lesson, profile, report_missing) for lesson in TRAINING_LESSONS}


def course_runs(report_missing: bool = False, profile: str | None = None) -> dict:
    """Every run lessons 03-07 recorded, by label (lesson order)."""
    return {label: run for runs in runs_by_lesson(report_missing, profile).values() for label, run in runs.items()}


def record_recommendation(label: str, run, profile: str | None = None) -> None:
    """Lesson 08's verdict: the run the ``colorize`` command uses by default."""
    registry.record_recommendation(_profile(profile), label, run.name)


def recommended() -> tuple[str, object] | None:
    """(label, run) the ``colorize`` command uses by default, or None if nothing is trained."""
    from colorize.runs import RUN_FILE, find_run

    choice = registry.recommendation()
    if choice and (run := find_run(choice[1])) is not None:
        return choice[0], run
    for lesson in FALLBACK_LESSONS:
        runs = recorded_runs(lesson)
        if runs:
            return next(iter(runs.items()))
    unrecorded = available()  # runs trained outside the lessons: the newest one
    if unrecorded:
        label, run = max(unrecorded.items(), key=lambda item: (item[1].directory / RUN_FILE).stat().st_mtime)
        return label, run
    return None


def describe(run) -> str:
    """A run in words, from its record: what it is and how it was trained (for runs that no lesson
    recorded under a label)."""
    settings = run.record.get("settings", {})
    dataset = str(run.record.get("dataset", "")).removeprefix("Dataset: ").split(" ", 1)[0] or "?"
    return (f"{settings.get('model', run.record.get('model', '?'))}, {settings.get('loss', '?')} loss, "
            f"{run.record.get('epochs_run', settings.get('epochs', '?'))} epochs, seed {settings.get('seed', '?')} "
            f"({dataset}, {run.record.get('profile', '?')} profile)")


def other_runs() -> dict:
    """label -> run of the finished runs in ``models/`` that no lesson recorded (sweeps, seed runs,
    a user's own), labelled readably by :func:`describe`, under their folder name."""
    from colorize.runs import find_run

    recorded = {run.name for profile in registry.profiles() for run in course_runs(profile=profile).values()}
    folder = config.models_dir()
    found = {}
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.name not in recorded and (run := find_run(path.name)) is not None:
                found[path.name] = run
    return found


def available(include_other: bool = True) -> dict:
    """label -> run of every trained model a user can pick with ``--model``: the lessons'
    recorded models by label, then (``include_other``) other runs by folder name."""
    runs = course_runs()
    if include_other:
        runs.update({name: run for name, run in other_runs().items() if name not in runs})
    return runs


def choose(spec: str | None = None, work_side: int | None = None, temperature: float | None = None) -> ChosenModel:
    """The model ``spec`` names: None (the recommended one), a label (as ``--list-models`` shows),
    a run folder name in ``models/``, or a path to a run folder or a ``.keras`` file."""
    import keras

    from colorize import precision
    from colorize.predict import ModelColorizer
    from colorize.runs import MODEL_FILE, RUN_FILE, Run, find_run

    if spec is None:
        choice = recommended()
        if choice is None:
            raise ColorizeError(NO_MODEL_HINT)
        label, run = choice
    else:
        path = Path(spec).expanduser()
        if path.is_dir():
            run = Run.from_directory(path)
            if run is None:
                raise ColorizeError(f"{spec} is a folder but not a training run (it has no {RUN_FILE})")
            label = path.name
        elif path.is_file() and path.name == MODEL_FILE and (run := Run.from_directory(path.parent)) is not None:
            label = path.parent.name  # a run's own model file: the run's working side, as by its folder
        elif path.is_file() and path.suffix == ".keras":
            try:
                model = precision.as_float32(keras.models.load_model(path, compile=False))
            except Exception as error:  # noqa: BLE001 - any failure here means "not a usable model file"
                raise ColorizeError(f"{spec} is not a loadable Keras model ({error.__class__.__name__})") from None
            side = work_side or config.get_profile("full").work_side
            return ChosenModel(f"{path.name} (working side {side} px)", ModelColorizer(model, side, temperature))
        elif path.exists():
            raise ColorizeError(f"{spec} is neither a run folder nor a .keras model file")
        else:
            runs = available()
            by_lower = {label.lower(): label for label in runs}
            if spec.lower() in by_lower:
                label = by_lower[spec.lower()]
                run = runs[label]
            elif (run := find_run(spec)) is not None:
                label = spec
            elif not runs:
                raise ColorizeError(f"no model called {spec!r}: {NO_MODEL_HINT}")
            else:
                raise ColorizeError(f"no model called {spec!r}: run `colorize --list-models` to see the "
                                    f"{len(runs)} trained ones, or pass a path")
    side = work_side or run.record["settings"]["work_side"]
    try:
        model = run.load_model()
    except Exception as error:  # noqa: BLE001 - a damaged or half-copied run folder
        raise ColorizeError(f"the model of {run.name} cannot be loaded ({error.__class__.__name__}); train it "
                            "again (make all) or choose another with --model") from None
    colorizer = ModelColorizer(model, work_side=side, temperature=temperature)
    return ChosenModel(f"{label} [{run.name}] (working side {side} px)", colorizer)
