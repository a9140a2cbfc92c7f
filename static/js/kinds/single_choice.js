// Single choice: a choice's hotkey picks it.
(function () {
  "use strict";
  var $ = window.VoxKinds.$;
  window.VoxKinds.register("single_choice", {
    check: function (f) { return $('input[name="value"]:checked', f) ? "" : "Pick an answer first."; },
    key: function (f, e) {
      var radio = $('input[data-hotkey="' + CSS.escape(e.key) + '"]', f);
      if (!radio) return false;
      radio.checked = true; radio.focus();
      return true;
    },
  });
})();
