// The review queue by keyboard: digits choose a label, Enter sets it, b sends the item back
// for more labels, g opens promotion to gold, n goes to the next item.
(function () {
  const form = document.getElementById("decide");
  if (!form) return;
  const action = document.getElementById("action");
  form.querySelectorAll("button[data-action]").forEach((b) =>
    b.addEventListener("click", () => { action.value = b.dataset.action; }));
  document.addEventListener("keydown", (e) => {
    const t = e.target;
    if (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && t.type !== "radio")) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const radios = form.querySelectorAll('input[name="label"][type="radio"]');
    if (/^[1-9]$/.test(e.key) && radios[Number(e.key) - 1]) {
      radios[Number(e.key) - 1].checked = true; e.preventDefault();
    } else if (e.key === "Enter") {
      action.value = "adjudicate"; e.preventDefault(); form.requestSubmit();
    } else if (e.key === "b") {
      action.value = "relabel"; e.preventDefault(); form.requestSubmit();
    } else if (e.key === "g") {
      const gold = document.getElementById("gold");
      if (gold) { gold.open = true; gold.querySelector("textarea").focus(); e.preventDefault(); }
    } else if (e.key === "n") {
      const next = document.getElementById("next");
      if (next) { e.preventDefault(); window.location = next.href; }
    }
  });
})();
