// The label kinds' scripts register here; workbench.js asks the kind of each answer form.
//
// A kind is an object with any of:
//   setup(form)          once per item panel, when it goes on screen or is prefetched
//   check(form)          "" when the answer may be sent, else what the rater must still do
//   beforeSubmit(form)   fill hidden inputs from the widget's state
//   key(form, event)     true when the kind used the key (the workbench then stops it)
// Each kind's script lives in js/kinds/<kind>.js beside its widget template.
(function () {
  "use strict";
  var kinds = {};
  window.VoxKinds = {
    register: function (name, kind) { kinds[name] = kind; },
    of: function (form) { return (form && kinds[form.dataset.kind]) || {}; },
    $: function (sel, root) { return (root || document).querySelector(sel); },
    $$: function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); },
  };
})();
