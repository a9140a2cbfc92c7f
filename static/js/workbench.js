// The keyboard-first workbench. Every label kind answers by keys; Enter submits. What differs
// between kinds is in each kind's own script (js/kinds.js, js/kinds/<kind>.js).
//
// Speed: the server sends the next item along with the current one (an inert <template>).
// On submit the prefetched panel is swapped in at once and the answer is posted in the
// background; requests go out one after another, so the server sees them in order. The
// reply brings the item after that. If the server refuses an answer, the workbench shows
// that item again with the reason.
//
// The workbench is replaced after skips and undos, so listeners live on document.
(function () {
  "use strict";

  var activeMs = 0;
  var lastTick = Date.now();
  var visible = !document.hidden;
  var chain = Promise.resolve();

  // Count only time the page is visible; the server also records lease-to-submit time.
  setInterval(function () {
    var now = Date.now();
    if (visible) activeMs += now - lastTick;
    lastTick = now;
  }, 500);
  document.addEventListener("visibilitychange", function () { visible = !document.hidden; });

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function workbench() { return document.getElementById("workbench"); }
  function panel() { return $("#wb-item-slot .wb-panel"); }
  function form() { return $("#wb-item-slot .wb-form"); }
  function csrf() {
    var input = $('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function setup(root) {
    // Per-item state lives in the DOM, so a swapped-in panel starts fresh.
    $$(".wb-panel", root).forEach(function (p) {
      var f = $(".wb-form", p);
      if (!f || f.dataset.ready) return;
      f.dataset.ready = "1";
      var kind = window.VoxKinds.of(f);
      if (kind.setup) kind.setup(f);
    });
    if (window.htmx && root && root.nodeType === 1) window.htmx.process(root);
  }

  function replaceWorkbench(html) {
    var old = workbench();
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.firstElementChild;
    if (!old || !fresh) return;
    old.replaceWith(fresh);
    activeMs = 0;
    setup(fresh);
  }

  function showError(f, message) {
    var box = $(".client-error", f);
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }

  // --- Submit, undo, skip: one after another, in order ----------------------------------

  function post(url, body, extraHeaders) {
    var headers = { "X-CSRFToken": csrf(), "HX-Request": "true" };
    Object.keys(extraHeaders || {}).forEach(function (k) { headers[k] = extraHeaders[k]; });
    // Form-encoded, not multipart: nothing here is a file, and the server parses it faster.
    if (body instanceof FormData) body = new URLSearchParams(body);
    return fetch(url, { method: "POST", body: body, headers: headers, credentials: "same-origin" });
  }

  function enqueue(task) {
    chain = chain.then(task).catch(function () {
      // A network failure: show the server's view of the queue again.
      return reload().catch(function () {});
    });
    return chain;
  }

  function reload() {
    return fetch(window.location.href, { headers: { "HX-Request": "true" } })
      .then(function (r) { return r.text(); })
      .then(replaceWorkbench);
  }

  function submitAnswer(f) {
    var kind = window.VoxKinds.of(f);
    var problem = kind.check ? kind.check(f) : "";
    if (problem) { showError(f, problem); return; }
    if (kind.beforeSubmit) kind.beforeSubmit(f);
    $('input[name="active_ms"]', f).value = String(activeMs);
    var data = new FormData(f);
    var focused = document.activeElement;
    var focusName = focused && f.contains(focused) && focused.name ? focused.name : null;
    var url = f.getAttribute("action");
    var shownId = null;
    var next = document.getElementById("wb-next");
    if (next && next.content && next.content.querySelector(".wb-panel")) {
      // The prefetched item goes on screen now; the answer travels in the background.
      var slot = document.getElementById("wb-item-slot");
      slot.replaceChildren(next.content.cloneNode(true));
      next.innerHTML = "";
      shownId = panel().dataset.item;
      activeMs = 0;
      setup(slot);
      bump("done-today"); bump("done-total");
      var undo = $(".wb-undo"); if (undo) undo.hidden = false;
    } else {
      f.querySelector('button[type="submit"]').disabled = true;
    }
    // The item now on screen: when the server leased the same one, its answer is only the
    // next prefetched item (annotation/views.py, _fetch_response).
    if (shownId !== null) data.set("shown", shownId);
    enqueue(function () {
      return post(url, data, { "X-Vox-Fetch": "1" })
        .then(function (r) { return r.json(); })
        .then(function (reply) {
          if (reply.redirect) { window.location.assign(reply.redirect); return; }
          var current = panel();
          if (!reply.ok || !current || shownId === null || String(reply.item_id) !== current.dataset.item) {
            // The reply leaves the whole workbench out when it took the shown item to be
            // on screen still; if the rater moved on meanwhile, ask for it.
            if (reply.current_html) replaceWorkbench(reply.current_html);
            else return reload();
            if (!reply.ok) restoreAnswer(data, focusName);
            return;
          }
          if (reply.progress) {
            setText("done-today", reply.progress.today);
            setText("done-total", reply.progress.total);
          }
          var tpl = document.getElementById("wb-next");
          if (tpl && !tpl.content.querySelector(".wb-panel")) tpl.innerHTML = reply.next_html;
        });
    });
  }

  // A refused answer comes back as the server renders the item, empty: put back what the
  // rater had typed and chosen, and the focus where it was, so no work is lost and the next
  // keys do not fire shortcuts.
  var OWN_FIELDS = ["csrfmiddlewaretoken", "item_id", "idempotency_key", "active_ms", "shown"];
  function restoreAnswer(data, focusName) {
    var f = form();
    if (!f || String(panel().dataset.item) !== String(data.get("item_id"))) return;
    var names = [];
    data.forEach(function (_, name) { if (OWN_FIELDS.indexOf(name) < 0 && names.indexOf(name) < 0) names.push(name); });
    $$("input[type=checkbox], input[type=radio]", f).forEach(function (el) {
      if (names.indexOf(el.name) >= 0 || el.type === "checkbox") el.checked = data.getAll(el.name).indexOf(el.value) >= 0;
    });
    names.forEach(function (name) {
      var values = data.getAll(name);
      $$('[name="' + CSS.escape(name) + '"]', f).forEach(function (el, i) {
        if (el.type !== "checkbox" && el.type !== "radio" && i < values.length) el.value = values[i];
      });
    });
    var kind = window.VoxKinds.of(f);
    if (kind.setup) kind.setup(f);
    var el = focusName && $('[name="' + CSS.escape(focusName) + '"]', f);
    if (el) {
      el.focus();
      if (el.tagName === "TEXTAREA") el.setSelectionRange(el.value.length, el.value.length);
    }
  }

  function bump(id) { var el = document.getElementById(id); if (el) el.textContent = String(Number(el.textContent) + 1); }
  function setText(id, value) { var el = document.getElementById(id); if (el) el.textContent = String(value); }

  function undoLast() {
    var wb = workbench();
    if (!wb || !wb.dataset.undoUrl || $(".wb-undo").hidden) return;
    enqueue(function () {
      return post(wb.dataset.undoUrl, new FormData()).then(function (r) { return r.text(); }).then(replaceWorkbench);
    });
  }

  function skip(skipForm) {
    var data = new FormData(skipForm);
    enqueue(function () {
      return post(skipForm.getAttribute("action"), data).then(function (r) { return r.text(); }).then(replaceWorkbench);
    });
  }

  document.addEventListener("submit", function (event) {
    var target = event.target;
    if (!target.closest || !target.closest("#workbench")) return;
    // Capture phase on document: stop htmx's own handler, the script posts in order.
    if (target.classList.contains("wb-form")) {
      event.preventDefault(); event.stopPropagation();
      if (target.closest("#wb-item-slot")) submitAnswer(target);
    } else if (target.classList.contains("wb-skip")) {
      event.preventDefault(); event.stopPropagation();
      skip(target);
    } else if (target.classList.contains("wb-undo")) {
      event.preventDefault(); event.stopPropagation();
      undoLast();
    }
  }, true);

  // --- Keys -----------------------------------------------------------------------------

  function drawer() { return document.getElementById("guidelines"); }
  function toggleDrawer(open) {
    var d = drawer(); if (!d) return;
    d.hidden = !open;
    $$(".guidelines-open").forEach(function (b) { b.setAttribute("aria-expanded", String(open)); });
    if (open) $(".guidelines-close", d).focus();
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest(".guidelines-open")) toggleDrawer(true);
    else if (event.target.closest(".guidelines-close")) toggleDrawer(false);
  });

  document.addEventListener("keydown", function (event) {
    if (!workbench() || event.altKey || event.metaKey) return;
    var d = drawer();
    if (d && !d.hidden) {
      if (event.key === "Escape" || event.key === "g" || event.key === "?") { event.preventDefault(); toggleDrawer(false); }
      return;
    }
    var target = event.target;
    var typing = target && (target.tagName === "TEXTAREA" ||
      (target.tagName === "INPUT" && target.type !== "radio" && target.type !== "checkbox"));
    var f = form();
    if (typing) {
      if (event.key === "Escape") { event.preventDefault(); target.blur(); }
      else if (event.key === "Enter" && event.ctrlKey && f && f.contains(target)) { event.preventDefault(); f.requestSubmit(); }
      return;
    }
    if (event.ctrlKey) {
      if (event.key === "Enter" && f) { event.preventDefault(); f.requestSubmit(); }
      return;
    }
    if (event.key === "g" || event.key === "?") { event.preventDefault(); toggleDrawer(true); return; }
    if (event.key === "u") { event.preventDefault(); undoLast(); return; }
    if (event.key === "s") {
      var reason = $("#wb-item-slot .skip-reason");
      if (reason) { event.preventDefault(); reason.focus(); }
      return;
    }
    if (!f) return;
    if (event.key === "Enter") {
      if (target && target.tagName === "BUTTON" && !f.contains(target)) return;
      event.preventDefault();
      f.requestSubmit();
      return;
    }
    var kind = window.VoxKinds.of(f);
    if (kind.key && kind.key(f, event)) event.preventDefault();
  });

  document.addEventListener("htmx:afterSwap", function () { activeMs = 0; setup(workbench()); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { setup(document); });
  else setup(document);
})();
