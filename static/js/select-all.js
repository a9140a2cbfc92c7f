// A checkbox with data-select-all="<selector>" checks or clears every box the selector
// names. Wired here, not in an onclick attribute: the Content-Security-Policy allows no
// inline script.
"use strict";
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.dataset.selectAll) return;
  document.querySelectorAll(box.dataset.selectAll).forEach((other) => {
    other.checked = box.checked;
  });
});
