// Demonstration: e edits the response, Ctrl+Enter sends it; a word diff against the
// model's draft follows the typing.
(function () {
  "use strict";
  var $ = window.VoxKinds.$;

  function renderDiff(f) {
    var text = $(".demo-text", f), box = $(".diff", f);
    if (!text || !box) return;
    var draft = text.dataset.draft || "";
    var a = draft.split(/(\s+)/), b = text.value.split(/(\s+)/);
    box.replaceChildren();
    if (a.length * b.length > 4000000) { box.textContent = "Too long to compare word by word."; return; }
    // Longest common subsequence over words, then walk it to mark deletions and insertions.
    var n = a.length, m = b.length, dp = new Array(n + 1);
    for (var i = 0; i <= n; i++) dp[i] = new Uint32Array(m + 1);
    for (i = n - 1; i >= 0; i--) for (var j = m - 1; j >= 0; j--)
      dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
    i = 0; j = 0;
    var changed = false;
    function add(tag, s) {
      if (!s) return;
      var last = box.lastChild;
      if (last && last.nodeName.toLowerCase() === tag) { last.textContent += s; return; }
      var el = document.createElement(tag); el.textContent = s; box.appendChild(el);
      if (tag !== "span") changed = true;
    }
    while (i < n && j < m) {
      if (a[i] === b[j]) { add("span", a[i]); i++; j++; }
      else if (dp[i + 1][j] >= dp[i][j + 1]) { add("del", a[i]); i++; }
      else { add("ins", b[j]); j++; }
    }
    while (i < n) add("del", a[i++]);
    while (j < m) add("ins", b[j++]);
    if (!changed) { box.replaceChildren(); box.textContent = "No changes to the draft yet."; }
  }

  var diffTimer = null;
  document.addEventListener("input", function (e) {
    if (!e.target.classList || !e.target.classList.contains("demo-text")) return;
    clearTimeout(diffTimer);
    var f = e.target.closest(".wb-form");
    diffTimer = setTimeout(function () { renderDiff(f); }, 150);
  });

  window.VoxKinds.register("demonstration", {
    setup: renderDiff,
    check: function (f) { return $(".demo-text", f).value.trim() ? "" : "Write the response first."; },
    key: function (f, e) {
      if (e.key !== "e") return false;
      var text = $(".demo-text", f);
      text.focus();
      text.setSelectionRange(text.value.length, text.value.length);
      return true;
    },
  });
})();
