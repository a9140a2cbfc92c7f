// Pairwise: pick A, B, tie or both bad by number, then (with strength) 1-3 for how much;
// f goes to the flags, r to the rationale.
(function () {
  "use strict";
  var $ = window.VoxKinds.$, $$ = window.VoxKinds.$$;

  function setStep(f, step) {
    f.dataset.step = step;
    $$("fieldset[data-step]", f).forEach(function (fs) { fs.classList.toggle("is-step", fs.dataset.step === step); });
  }

  window.VoxKinds.register("pairwise", {
    setup: function (f) { setStep(f, "choice"); },
    check: function (f) {
      var choice = $('input[name="choice"]:checked', f);
      if (!choice) return "Pick A, B" + ($('input[value="tie"]', f) ? ", tie" : "") + " first.";
      if ($(".strength", f) && (choice.value === "A" || choice.value === "B") && !$('input[name="strength"]:checked', f))
        return "Say how much better: 1, 2 or 3.";
      return "";
    },
    key: function (f, e) {
      if (e.key === "r") { var r = $(".rationale", f); if (r) { r.focus(); return true; } return false; }
      if (e.key === "f") { var flag = $('input[type="checkbox"]', f); if (flag) { flag.focus(); return true; } return false; }
      if (f.dataset.step === "strength") {
        if (e.key === "Backspace") { setStep(f, "choice"); return true; }
        var s = $('input[data-strength-key="' + CSS.escape(e.key) + '"]', f);
        if (!s) return false;
        s.checked = true;
        return true;
      }
      var radio = $('input[name="choice"][data-hotkey="' + CSS.escape(e.key) + '"]', f);
      if (!radio) return false;
      radio.checked = true;
      var strength = $(".strength", f);
      if (strength && (radio.value === "A" || radio.value === "B")) setStep(f, "strength");
      else $$('input[name="strength"]', f).forEach(function (s) { s.checked = false; });
      return true;
    },
  });
})();
