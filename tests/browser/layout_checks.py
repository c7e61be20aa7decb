"""What a page must hold to at any width: no horizontal scroll of the document, every visible
control inside the viewport (or inside a box that scrolls it into view), placeholders that fit
their box, no word of a table or a detail broken across lines, and the cells of a table row
sharing their top edge. Run in the page by playwright; each check returns what it found wrong."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

# The skip link sits off-screen on purpose until it has the focus.
CONTROLS = "a[href]:not(.skip), button, input:not([type=hidden]), select, textarea, summary"

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


# A placeholder wider than its box is cut off: measured in the input's own font.
_CUT_PLACEHOLDERS = """() => {
  const context = document.createElement("canvas").getContext("2d");
  const found = [];
  for (const el of document.querySelectorAll("input[placeholder], textarea[placeholder]")) {
    const s = getComputedStyle(el);
    if (el.getBoundingClientRect().width === 0) continue;
    context.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
    const room = el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
    const needed = context.measureText(el.placeholder).width;
    if (needed > room) found.push(`"${el.placeholder}" needs ${Math.ceil(needed)} px, has ${Math.floor(room)}`);
  }
  return found;
}"""

# A word of a table cell or a detail that spans two lines was broken inside it ("employeeNumbe r").
_BROKEN_WORDS = r"""() => {
  const found = [];
  const walker = document.createTreeWalker(document.querySelector("main") || document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node && found.length < 5; node = walker.nextNode()) {
    if (!node.parentElement.closest("td, th, dd, dt, li")) continue;
    for (const match of node.data.matchAll(/[^\s\u200b-]{4,}/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (lines.size > 1) found.push(match[0]);
    }
  }
  return found;
}"""


# What sticks out when the page is too wide: the outermost elements past the right edge.
_WIDEST = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  const scrolled = (el) => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      if (["auto", "scroll", "hidden"].includes(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll("body *")) {
    if (el.getBoundingClientRect().right <= width + 1 || scrolled(el)) continue;
    if (el.parentElement && el.parentElement.getBoundingClientRect().right > width + 1 && !scrolled(el.parentElement)) continue;
    found.push(`${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().width)} px)`);
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
        wide = ", ".join(page.evaluate(_WIDEST))
        problems.append(f"the page is {sizes['scroll']} px wide in a {sizes['width']} px viewport: {wide}")
    problems += [f"outside the viewport: {c}" for c in page.evaluate(_OUTSIDE, CONTROLS)]
    problems += [f"placeholder cut off: {p}" for p in page.evaluate(_CUT_PLACEHOLDERS)]
    problems += [f"word broken across lines: {w}" for w in page.evaluate(_BROKEN_WORDS)]
    return problems


def misaligned_rows(page: Page) -> list[str]:
    """Table rows whose cells do not start their text on one line (within 2 px)."""
    found: list[str] = page.evaluate(_MISALIGNED)
    return found
