"""Layout checks run inside a page, for the browser tests: what an admin would see as broken.

`LAYOUT_PROBLEMS` is a JavaScript function returning a list of sentences, one per problem found:
the document wider than the viewport, a visible control (link, button, field, summary) reaching
outside it, an attribute name (`code.attr`) or a department name broken inside a word, a table row whose cells do not
start on one line, two columns of a table saying the same thing in every row, a table with no
column marked as its sort (`aria-sort`), and a text field whose placeholder is cut off.
"""

from __future__ import annotations

LAYOUT_PROBLEMS = r"""
() => {
  const problems = [];
  const WHOLE_WORDS = 'code.attr, .tree a, td.department a';
  const width = document.documentElement.clientWidth;
  const where = (el) => {
    const id = el.id ? '#' + el.id : '';
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40);
    return `${el.tagName.toLowerCase()}${id} "${text}"`;
  };
  const shown = (el) => {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1) return false;  // visually-hidden, closed dialogs
    return el.checkVisibility ? el.checkVisibility() : true;
  };
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${width} px viewport`);
  }
  for (const el of document.querySelectorAll('a, button, input, select, textarea, summary')) {
    if (el.classList.contains('skip') || el.type === 'hidden' || !shown(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.left < -0.5 || box.right > width + 0.5) {
      problems.push(`${where(el)} reaches ${Math.round(box.left)}..${Math.round(box.right)} px, outside the ${width} px viewport`);
    }
  }
  // Names a person reads whole: attribute names (broken only between their parts, which are
  // the text nodes), department names (only between words).
  for (const holder of document.querySelectorAll(WHOLE_WORDS)) {
    if (!shown(holder)) continue;
    const walker = document.createTreeWalker(holder, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const pieces = holder.matches('code.attr') ? [[0, node.textContent.length]] :
        [...node.textContent.matchAll(/\S+/g)].map((m) => [m.index, m.index + m[0].length]);
      for (const [start, end] of pieces) {
        if (end <= start) continue;
        const range = document.createRange();
        range.setStart(node, start);
        range.setEnd(node, end);
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (lines.size > 1) problems.push(`"${node.textContent.slice(start, end)}" breaks inside a word`);
      }
    }
  }
  for (const table of document.querySelectorAll('table')) {
    if (!shown(table)) continue;
    const label = table.id ? '#' + table.id : table.className || 'a table';
    if (!table.querySelector('th[aria-sort]')) problems.push(`table ${label} marks no column as its sort order`);
    const rows = [...table.querySelectorAll('tbody > tr')].filter(shown);
    for (const row of rows) {
      const tops = [...row.children].filter((cell) => cell.textContent.trim()).map((cell) => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        const first = [...range.getClientRects()].find((r) => r.width > 0);
        return first ? first.top : cell.getBoundingClientRect().top;
      });
      if (tops.length > 1 && Math.max(...tops) - Math.min(...tops) > 6 &&
          getComputedStyle(row).display === 'table-row') {
        problems.push(`a row of table ${label} starts its cells ${Math.round(Math.max(...tops) - Math.min(...tops))} px apart`);
        break;
      }
    }
    const columns = [...table.querySelectorAll('thead th')].map((th) => th.innerText.trim());
    if (rows.length > 0) {
      for (let a = 0; a < columns.length; a++) {
        for (let b = a + 1; b < columns.length; b++) {
          const same = rows.every((row) => {
            const x = row.children[a], y = row.children[b];
            return x && y && x.textContent.trim() !== '' && x.textContent.trim() === y.textContent.trim();
          });
          if (same) problems.push(`table ${label}: columns "${columns[a]}" and "${columns[b]}" say the same in every row`);
        }
      }
    }
  }
  const measure = document.createElement('canvas').getContext('2d');
  for (const field of document.querySelectorAll('input[placeholder]')) {
    if (!shown(field)) continue;
    const style = getComputedStyle(field);
    measure.font = `${style.fontSize} ${style.fontFamily}`;
    const room = field.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 24;
    if (measure.measureText(field.placeholder).width > room) {
      problems.push(`${where(field)}: its placeholder "${field.placeholder}" is cut off`);
    }
  }
  return problems;
}
"""
