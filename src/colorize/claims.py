"""Claims are code: every statement a lesson makes about its own numbers is checked right after it.

A lesson states a claim in its prose and checks it in the next cell::

    lesson.check("L is far less correlated with a and b than R is with G",
                 holds=abs(l_a) < r_g, measured=f"|L–a| {abs(l_a):.2f}, R–G {r_g:.2f}")

A claim that holds is shown as one quiet line with the measured numbers. A claim that does not
hold on the run at hand is shown as a warning box (what was claimed, what was measured) instead
of being silently wrong — except under a quick profile (``smoke``), whose four photos cannot
support any claim about the course: there claims are still evaluated and counted, not warned
about. :meth:`ClaimLedger.closing_line` gives the one line every report ends with,
``Claims checked: N, held: M``, and the ledger is kept in the lesson's ``summary.json`` so
``make all`` can print the course total.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

#: Profiles whose runs are too small to hold a lesson's claims (they are evaluated, not warned about).
QUIET_PROFILES = frozenset({"smoke"})
CLOSING_FORMAT = "Claims checked: {checked}, held: {held}"


def show_markdown(text: str) -> None:
    """Markdown in a notebook (so it renders in the report), plain text elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is not None:
            display(Markdown(text))
            return
    except ImportError:
        pass
    print(text)


@dataclass
class Claim:
    claim: str
    measured: str
    held: bool

    def to_dict(self) -> dict:
        return {"claim": self.claim, "measured": self.measured, "held": self.held}


@dataclass
class ClaimLedger:
    """The claims one lesson checked, in order."""

    profile: str = "full"
    claims: list[Claim] = field(default_factory=list)

    @property
    def warns(self) -> bool:
        return self.profile not in QUIET_PROFILES

    def check(self, claim: str, holds: bool, measured: str) -> bool:
        """Record ``claim`` with what this run ``measured``; show it (a warning box if it fails)."""
        held = bool(holds)
        self.claims.append(Claim(claim, measured, held))
        if held:
            show_markdown(f"✔ *Checked against this run:* {claim} — {measured}")
        elif self.warns:
            show_markdown(
                f'<div style="border-left:4px solid #c0392b;background:#fdecea;padding:0.5em 0.8em">'
                f"⚠ <b>Claim not supported by this run.</b><br>Claimed: {html.escape(claim)}<br>"
                f"Measured: {html.escape(measured)}</div>")
        else:
            show_markdown(f"· *Not held on the {self.profile} profile's few photos (not a warning):* "
                              f"{claim} — {measured}")
        return held

    def check_winner(self, comparison, winner: str | None, claim: str | None = None) -> bool:
        """Claim that ``comparison`` (:class:`colorize.intervals.Comparison`) has ``winner``
        (None: that the difference is not measurable here)."""
        if claim is None:
            metric = comparison.metric.upper()
            claim = (f"{winner} is better than {comparison.b if winner == comparison.a else comparison.a} on {metric}"
                     if winner else f"{comparison.a} and {comparison.b} cannot be told apart on {metric} here")
        return self.check(claim, comparison.winner == winner, comparison.sentence())

    @property
    def checked(self) -> int:
        return len(self.claims)

    @property
    def held(self) -> int:
        return sum(claim.held for claim in self.claims)

    def closing_line(self) -> str:
        return CLOSING_FORMAT.format(checked=self.checked, held=self.held)

    def to_dict(self) -> dict:
        return {"checked": self.checked, "held": self.held, "list": [claim.to_dict() for claim in self.claims]}


def course_total(summaries: list[dict]) -> tuple[int, int]:
    """Claims checked and held over every lesson's summary."""
    checked = sum(summary.get("claims", {}).get("checked", 0) for summary in summaries)
    held = sum(summary.get("claims", {}).get("held", 0) for summary in summaries)
    return checked, held
