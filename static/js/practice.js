// Training, qualification and calibration answer with the live workbench's widgets: each
// kind's script (js/kinds/<kind>.js) takes its keys and checks the answer; Enter submits
// as a plain form post, and each answer gets its feedback page.
(function () {
  "use strict";
  function form() { return document.querySelector(".practice-form"); }

  function ready() {
    var f = form();
    var kind = window.VoxKinds.of(f);
    if (f && kind.setup) kind.setup(f);
  }

  document.addEventListener("submit", function (event) {
    var f = event.target;
    if (!f.classList || !f.classList.contains("practice-form")) return;
    var kind = window.VoxKinds.of(f);
    var problem = kind.check ? kind.check(f) : "";
    if (problem) {
      event.preventDefault();
      var box = f.querySelector(".client-error");
      if (box) { box.textContent = problem; box.hidden = false; }
      return;
    }
    if (kind.beforeSubmit) kind.beforeSubmit(f);
  });

  document.addEventListener("keydown", function (event) {
    var f = form();
    if (!f || event.metaKey || event.altKey) return;
    var t = event.target;
    var typing = t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && t.type !== "radio" && t.type !== "checkbox"));
    if (typing) {
      if (event.key === "Escape") { event.preventDefault(); t.blur(); }
      else if (event.key === "Enter" && event.ctrlKey && f.contains(t)) { event.preventDefault(); f.requestSubmit(); }
      return;
    }
    if (event.key === "Enter") {
      if (t && t.tagName === "BUTTON" && !f.contains(t)) return;
      event.preventDefault();
      f.requestSubmit();
      return;
    }
    if (event.ctrlKey) return;
    var kind = window.VoxKinds.of(f);
    if (kind.key && kind.key(f, event)) event.preventDefault();
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
