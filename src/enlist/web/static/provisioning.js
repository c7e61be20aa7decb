// enlist provisioning pages: the assignment picker (Users and groups → Add user/group).
// Checking a box in the searchable list keeps the choice in #chosen as a hidden form field, so a
// new search does not lose it; Select closes the list and says what is chosen instead of
// "None Selected"; Assign posts the form.
(() => {
  const chosen = () => document.getElementById("chosen");

  const render = () => {
    const list = chosen();
    const summary = document.getElementById("picker-summary");
    if (!list || !summary) return;
    const count = list.querySelectorAll("li").length;
    summary.textContent = count === 0 ? "None Selected" : `${count} selected`;
  };

  document.addEventListener("change", (event) => {
    const box = event.target.closest("input[data-pick]");
    const list = chosen();
    if (!box || !list) return;
    const value = box.dataset.pick;
    const existing = list.querySelector(`li[data-value="${CSS.escape(value)}"]`);
    if (box.checked && !existing) {
      const item = document.createElement("li");
      item.dataset.value = value;
      item.textContent = box.dataset.label || value;
      const field = document.createElement("input");
      field.type = "hidden";
      field.name = "item";
      field.value = value;
      item.appendChild(field);
      list.appendChild(item);
    } else if (!box.checked && existing) {
      existing.remove();
    }
  });

  // A fresh search result shows the boxes of what is already chosen as checked.
  document.addEventListener("htmx:afterSwap", (event) => {
    const list = chosen();
    if (!list) return;
    event.target.querySelectorAll("input[data-pick]").forEach((box) => {
      box.checked = Boolean(list.querySelector(`li[data-value="${CSS.escape(box.dataset.pick)}"]`));
    });
  });

  document.addEventListener("click", (event) => {
    const select = event.target.closest("[data-picker-select]");
    if (!select) return;
    select.closest("dialog")?.close();
    render();
  });
})();
