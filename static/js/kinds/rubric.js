// Rubric: number keys rate the highlighted criterion, which then moves on to the next one and
// on to the next turn; arrows move it; r opens its rationale (Esc comes back). The
// workbench never hands keys typed into a rationale to this script.
(function () {
  "use strict";
  var $ = window.VoxKinds.$, $$ = window.VoxKinds.$$;

  function crits(f) { return $$(".rubric-crit", f); }

  function activate(f, index, focus) {
    var all = crits(f);
    all.forEach(function (c, i) { c.classList.toggle("is-active", i === index); });
    // Real focus follows the highlight, so the page scrolls to it and a screen reader says it.
    var radio = focus && all[index] && ($("input:checked", all[index]) || $("input[type=radio]", all[index]));
    if (radio) radio.focus();
  }

  function activeIndex(f) {
    var at = crits(f).findIndex(function (c) { return c.classList.contains("is-active"); });
    return at < 0 ? 0 : at;
  }

  function named(c) {
    return $(".crit-label", c).textContent + (c.dataset.turn ? " (turn " + c.dataset.turn + ")" : "");
  }

  // Tab, a click or the check may move focus into a criterion: it is then the highlighted one.
  document.addEventListener("focusin", function (event) {
    var c = event.target.closest && event.target.closest(".rubric-crit");
    if (!c) return;
    var f = c.closest(".wb-form");
    var all = crits(f);
    if (!c.classList.contains("is-active")) activate(f, all.indexOf(c), false);
  });

  window.VoxKinds.register("rubric", {
    check: function (f) {
      var all = crits(f);
      for (var i = 0; i < all.length; i++) {
        var c = all[i];
        if (!$("input:checked", c)) { activate(f, i, true); return "Rate " + named(c) + " first."; }
        var text = $("textarea.rationale", c);
        if (c.dataset.rationale === "required" && text && !text.value.trim()) {
          activate(f, i, false);
          text.focus();
          return "Write why you rated " + named(c) + " as you did: a rationale is required.";
        }
      }
      return "";
    },
    key: function (f, e) {
      var all = crits(f);
      var at = activeIndex(f);
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        activate(f, Math.max(0, Math.min(all.length - 1, at + (e.key === "ArrowDown" ? 1 : -1))), true);
        return true;
      }
      if (e.key === "r") {
        var text = all[at] && $("textarea.rationale", all[at]);
        if (!text) return false;
        text.focus();
        return true;
      }
      var value = { "0": "10", "-": "11" }[e.key] || (/^[1-9]$/.test(e.key) ? e.key : null);
      var radio = value && all[at] && $('input[value="' + value + '"]', all[at]);
      if (!radio) return false;
      radio.checked = true;
      activate(f, Math.min(all.length - 1, at + 1), true);
      return true;
    },
  });
})();
