"""The template filters of the provisioning pages: counts with the right noun, attribute names
that wrap only between their parts, and the provisioning log in an admin's words.

Every count a page shows next to a noun goes through `plural` (`enlist.plural`) ("1 user", "2 users", "1,204
users"), so no page says "1 users"; `tests/web/test_provisioning_words.py` checks the templates
for a hand-made plural.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

from enlist.plural import plural
from enlist.provisioning.logs import wording

# Where an attribute name may wrap: after the separators of a SCIM URN or a dotted path, never
# inside a word ("employeeNumbe r").
_BREAK_AFTER = re.compile(r"([:.\[\]/])")


def attr_name(name: object) -> Markup:
    """An attribute name, escaped, with a break opportunity (<wbr>) after each ':' '.' '[' ']' '/',
    so a long URN wraps between its parts; the `.attr` style keeps words whole."""
    parts = _BREAK_AFTER.split(str(name))
    return Markup("").join(
        Markup("{}<wbr>").format(p) if _BREAK_AFTER.fullmatch(p) else escape(p) for p in parts
    )


def skip_words(reason: str) -> wording.SkipExplanation:
    return wording.SKIP_REASONS.get(reason, wording.SkipExplanation(f"Skipped: {reason}", ""))


FILTERS: dict[str, Callable[..., Any]] = {
    "plural": plural,
    "attr_name": attr_name,
    "step_title": wording.step_title,
    "skip_explanation": wording.skip_explanation,
    "skip_reason": wording.skip_reason,
}
GLOBALS: dict[str, Callable[..., Any]] = {"skip_words": skip_words}
