// Keys for training, qualification and calibration pages: a choice's key picks it, Enter
// submits (a plain form post: each answer gets its feedback page).
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var form = document.querySelector(".practice-form");
    if (!form || event.ctrlKey || event.metaKey || event.altKey) return;
    var t = event.target;
    if (t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && t.type !== "radio" && t.type !== "checkbox"))) return;
    if (event.key === "Enter") {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    var input = form.querySelector('input[data-hotkey="' + CSS.escape(event.key) + '"]');
    if (input) {
      event.preventDefault();
      input.checked = input.type === "checkbox" ? !input.checked : true;
      input.focus();
    }
  });
})();
