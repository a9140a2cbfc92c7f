// Multiple choice: a choice's hotkey ticks or unticks it.
(function () {
  "use strict";
  var $ = window.VoxKinds.$;
  window.VoxKinds.register("multi_choice", {
    key: function (f, e) {
      var box = $('input[data-hotkey="' + CSS.escape(e.key) + '"]', f);
      if (!box) return false;
      box.checked = !box.checked; box.focus();
      return true;
    },
  });
})();
