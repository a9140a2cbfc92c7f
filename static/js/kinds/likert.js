// Likert: number keys rate the highlighted dimension, which then moves on; arrows move it.
(function () {
  "use strict";
  var $ = window.VoxKinds.$, $$ = window.VoxKinds.$$;

  function activateDim(f, index) {
    $$(".likert-dim", f).forEach(function (d, i) { d.classList.toggle("is-active", i === index); });
  }

  document.addEventListener("click", function (event) {
    var dim = event.target.closest && event.target.closest(".likert-dim");
    if (dim) activateDim(dim.closest(".wb-form"), $$(".likert-dim", dim.closest(".wb-form")).indexOf(dim));
  });

  window.VoxKinds.register("likert", {
    check: function (f) {
      var missing = $$(".likert-dim", f).filter(function (d) { return !$("input:checked", d); });
      return missing.length ? "Rate " + $(".dim-label", missing[0]).textContent + " first." : "";
    },
    key: function (f, e) {
      var dims = $$(".likert-dim", f);
      var at = dims.findIndex(function (d) { return d.classList.contains("is-active"); });
      if (at < 0) at = 0;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        activateDim(f, Math.max(0, Math.min(dims.length - 1, at + (e.key === "ArrowDown" ? 1 : -1))));
        return true;
      }
      var value = { "0": "10", "-": "11" }[e.key] || (/^[1-9]$/.test(e.key) ? e.key : null);
      var radio = value && $('input[value="' + value + '"]', dims[at]);
      if (!radio) return false;
      radio.checked = true;
      if (at + 1 < dims.length) activateDim(f, at + 1);
      return true;
    },
  });
})();
