"""What a page must hold to at any width: no horizontal scroll of the document, every visible
control inside the viewport (or inside a box that scrolls it into view), and the cells of a table
row sharing their top edge. Run in the page by playwright; each check returns what it found wrong."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary"

# A control is "outside" when its box leaves the viewport and no ancestor scrolls sideways to
# bring it back (a wide table inside a scrolling card is reachable; one that pushes the page is not).
_OUTSIDE = """(selector) => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if ((s.overflowX === "auto" || s.overflowX === "scroll") && a.scrollWidth > a.clientWidth) return true;
    }
    return false;
  };
  const found = [];
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || s.visibility === "hidden") continue;
    if ((r.right > width + 1 || r.left < -1) && !scrolls(el)) {
      found.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.value || el.name || "").trim().slice(0, 40)}" at ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  return found;
}"""

# Cells of one row whose first line of text starts more than 2 px from the row's other cells: a
# label styled as a block, a stray margin, a badge that pushes its cell down.
_MISALIGNED = """() => {
  const found = [];
  for (const row of document.querySelectorAll("tbody tr")) {
    const cells = [...row.children].filter((c) => c.getBoundingClientRect().height > 0);
    const tops = cells.map((c) => {
      const range = document.createRange();
      range.selectNodeContents(c);
      const first = [...range.getClientRects()].find((r) => r.height > 0);
      return first ? first.top : null;
    }).filter((t) => t !== null);
    if (tops.length > 1 && Math.max(...tops) - Math.min(...tops) > 2) {
      found.push(`${row.innerText.trim().slice(0, 60)}: tops ${tops.map(Math.round).join(", ")}`);
    }
    if (found.length >= 3) break;
  }
  return found;
}"""


def layout_problems(page: Page) -> list[str]:
    """Everything wrong with the page's layout at the current viewport, in words."""
    problems: list[str] = []
    sizes: dict[str, Any] = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, width: document.documentElement.clientWidth})"
    )
    if sizes["scroll"] > sizes["width"]:
        problems.append(f"the page is {sizes['scroll']} px wide in a {sizes['width']} px viewport")
    problems += [f"outside the viewport: {c}" for c in page.evaluate(_OUTSIDE, CONTROLS)]
    return problems


def misaligned_rows(page: Page) -> list[str]:
    """Table rows whose cells do not start their text on one line (within 2 px)."""
    found: list[str] = page.evaluate(_MISALIGNED)
    return found
