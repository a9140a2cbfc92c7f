// Span tagging: a cursor walks the text's tokens; Shift+arrows or the mouse select a run of
// them, and a label's key (or button) tags it. Offsets come from the tokens' data-s/data-e,
// set by the server in code points, so nothing here counts characters.
(function () {
  "use strict";
  var $ = window.VoxKinds.$, $$ = window.VoxKinds.$$;

  function state(f) {
    if (!f._spans) {
      var input = $('input[name="spans"]', f);
      try { f._spans = JSON.parse(input.value || "[]"); } catch (err) { f._spans = []; }
      f._cur = 0; f._anchor = null;
    }
    return f;
  }
  function toks(f) { return $$(".tok", f); }
  function colors(f) {
    var out = {};
    $$(".span-label", f).forEach(function (b) { out[b.dataset.label] = { color: b.dataset.color }; });
    return out;
  }
  function overlaps(a, b) { return a.start < b.end && b.start < a.end; }

  function render(f) {
    var t = toks(f), c = colors(f), lo = -1, hi = -1;
    if (f._anchor !== null) { lo = Math.min(f._anchor, f._cur); hi = Math.max(f._anchor, f._cur); }
    t.forEach(function (el, i) {
      var s = Number(el.dataset.s), e = Number(el.dataset.e);
      var covering = f._spans.filter(function (sp) { return sp.start < e && sp.end > s; });
      el.classList.toggle("in-span", covering.length > 0);
      el.style.setProperty("--c", covering.length ? (c[covering[0].label] || {}).color || "" : "");
      el.style.setProperty("--c2", covering.length > 1 ? (c[covering[1].label] || {}).color || "" : "");
      el.title = covering.map(function (sp) { return sp.label; }).join(", ");
      el.classList.toggle("is-selected", i >= lo && i <= hi);
      el.classList.toggle("is-cursor", i === f._cur);
    });
    // The space between two tokens of one span is part of it on screen too.
    $$(".span-text .gap", f).forEach(function (gap) {
      var before = gap.previousElementSibling, after = gap.nextElementSibling;
      var inside = before && after && f._spans.filter(function (sp) {
        return sp.start <= Number(before.dataset.s) && sp.end >= Number(after.dataset.e);
      })[0];
      gap.classList.toggle("in-span", Boolean(inside));
      gap.style.setProperty("--c", inside ? (c[inside.label] || {}).color || "" : "");
    });
    var list = $(".span-list", f);
    list.replaceChildren();
    f._spans.forEach(function (sp, k) {
      var li = document.createElement("li");
      li.style.setProperty("--c", (c[sp.label] || {}).color || "");
      li.dataset.start = sp.start; li.dataset.end = sp.end; li.dataset.label = sp.label;
      var strong = document.createElement("strong");
      strong.textContent = sp.label + " ";
      li.appendChild(strong);
      li.appendChild(document.createTextNode(textOf(f, sp)));
      var remove = document.createElement("button");
      remove.type = "button"; remove.className = "span-remove"; remove.dataset.index = k;
      remove.setAttribute("aria-label", "Remove " + sp.label + " span");
      remove.textContent = "×";
      li.appendChild(remove);
      list.appendChild(li);
    });
    $(".span-empty", f).hidden = f._spans.length > 0;
  }

  function textOf(f, sp) {
    return toks(f).filter(function (el) { return Number(el.dataset.s) >= sp.start && Number(el.dataset.e) <= sp.end; })
      .map(function (el) { return el.textContent; }).join(" ");
  }

  function tag(f, label) {
    var t = toks(f);
    if (!t.length) return;
    var lo = f._anchor === null ? f._cur : Math.min(f._anchor, f._cur);
    var hi = f._anchor === null ? f._cur : Math.max(f._anchor, f._cur);
    var span = { start: Number(t[lo].dataset.s), end: Number(t[hi].dataset.e), label: label };
    var overlap = $(".spans", f).dataset.overlap === "1";
    // Without overlap a new span replaces those it crosses; with overlap only an identical one.
    f._spans = f._spans.filter(function (sp) {
      if (overlap) return !(sp.start === span.start && sp.end === span.end && sp.label === span.label);
      return !overlaps(sp, span);
    });
    f._spans.push(span);
    f._spans.sort(function (a, b) { return a.start - b.start || a.end - b.end || (a.label < b.label ? -1 : 1); });
    f._anchor = null;
    f._cur = Math.min(hi + 1, t.length - 1);
    render(f);
  }

  function removeAtCursor(f) {
    var el = toks(f)[f._cur];
    if (!el) return false;
    var s = Number(el.dataset.s), e = Number(el.dataset.e);
    for (var k = f._spans.length - 1; k >= 0; k--) {
      if (f._spans[k].start < e && f._spans[k].end > s) { f._spans.splice(k, 1); render(f); return true; }
    }
    return false;
  }

  document.addEventListener("mouseup", function (event) {
    var box = event.target.closest && event.target.closest(".span-text");
    if (!box) return;
    var f = state(box.closest(".wb-form")), t = toks(f), sel = window.getSelection();
    var hit = t.map(function (el, i) { return sel && !sel.isCollapsed && sel.containsNode(el, true) ? i : -1; })
      .filter(function (i) { return i >= 0; });
    if (hit.length) {
      f._anchor = hit[0]; f._cur = hit[hit.length - 1];
      sel.removeAllRanges();
    } else {
      var tok = event.target.closest(".tok");
      if (tok) { f._cur = t.indexOf(tok); f._anchor = null; }
    }
    box.focus();
    render(f);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".spans button");
    if (!button) return;
    var f = state(button.closest(".wb-form"));
    if (button.classList.contains("span-label")) tag(f, button.dataset.label);
    else if (button.classList.contains("span-remove")) { f._spans.splice(Number(button.dataset.index), 1); render(f); }
  });

  window.VoxKinds.register("span_tagging", {
    setup: function (f) { f._spans = null; render(state(f)); },
    check: function () { return ""; },
    beforeSubmit: function (f) {
      state(f);
      $('input[name="spans"]', f).value = JSON.stringify(f._spans.map(function (sp) {
        return { start: sp.start, end: sp.end, label: sp.label };
      }));
    },
    key: function (f, e) {
      state(f);
      var n = toks(f).length;
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        if (e.shiftKey && f._anchor === null) f._anchor = f._cur;
        if (!e.shiftKey) f._anchor = null;
        f._cur = Math.max(0, Math.min(n - 1, f._cur + (e.key === "ArrowRight" ? 1 : -1)));
        render(f);
        return true;
      }
      if (e.key === "Escape") { f._anchor = null; render(f); return true; }
      if (e.key === "x") return removeAtCursor(f);
      var button = e.key && $('.span-label[data-hotkey="' + CSS.escape(e.key) + '"]', f);
      if (!button) return false;
      tag(f, button.dataset.label);
      return true;
    },
  });
})();
