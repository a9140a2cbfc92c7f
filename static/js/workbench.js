// Keyboard-first labeling: a choice's key picks it, Enter submits.
// The workbench is swapped by htmx after each submit, so listeners live on document.
(function () {
  "use strict";
  var activeMs = 0;
  var lastTick = Date.now();
  var visible = !document.hidden;

  // Count only time the page is visible; the server also records lease-to-submit time.
  setInterval(function () {
    var now = Date.now();
    if (visible) activeMs += now - lastTick;
    lastTick = now;
  }, 500);
  document.addEventListener("visibilitychange", function () { visible = !document.hidden; });

  function form() { return document.querySelector("#workbench .wb-form"); }

  document.addEventListener("keydown", function (event) {
    var f = form();
    if (!f || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var typing = target && (target.tagName === "TEXTAREA" ||
      (target.tagName === "INPUT" && target.type !== "radio" && target.type !== "checkbox"));
    if (typing) return;
    if (event.key === "Enter") {
      event.preventDefault();
      // htmx wires a swapped-in form a moment after the swap; a fast rater can beat it,
      // and an unwired form would submit with a full page load.
      if (window.htmx) window.htmx.process(f);
      f.requestSubmit();
      return;
    }
    var radio = f.querySelector('input[data-hotkey="' + CSS.escape(event.key) + '"]');
    if (radio) {
      event.preventDefault();
      radio.checked = true;
      radio.focus();
    }
  });

  // Capture phase: runs before htmx reads the form, on every submit path.
  document.addEventListener("submit", function (event) {
    var input = event.target.querySelector && event.target.querySelector('input[name="active_ms"]');
    if (input) input.value = String(activeMs);
  }, true);
  document.addEventListener("htmx:afterSwap", function () { activeMs = 0; });
})();
