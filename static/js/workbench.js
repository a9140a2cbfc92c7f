// The keyboard-first workbench. Every label kind answers by keys; Enter submits.
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
      if (f.dataset.kind === "ranking") renumber(f);
      if (f.dataset.kind === "demonstration") renderDiff(f);
      if (f.dataset.kind === "pairwise") setStep(f, "choice");
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
    var problem = check(f);
    if (problem) { showError(f, problem); return; }
    if (f.dataset.kind === "ranking") $('input[name="ranking"]', f).value = JSON.stringify(tiers(f));
    $('input[name="active_ms"]', f).value = String(activeMs);
    var data = new FormData(f);
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

  // --- What each kind needs before it may be sent -----------------------------------------

  function check(f) {
    switch (f.dataset.kind) {
      case "single_choice":
        return $('input[name="value"]:checked', f) ? "" : "Pick an answer first.";
      case "likert":
        var missing = $$(".likert-dim", f).filter(function (d) { return !$("input:checked", d); });
        return missing.length ? "Rate " + $(".dim-label", missing[0]).textContent + " first." : "";
      case "pairwise":
        var choice = $('input[name="choice"]:checked', f);
        if (!choice) return "Pick A, B" + ($('input[value="tie"]', f) ? ", tie" : "") + " first.";
        if ($(".strength", f) && (choice.value === "A" || choice.value === "B") && !$('input[name="strength"]:checked', f))
          return "Say how much better: 1, 2 or 3.";
        return "";
      case "demonstration":
        return $(".demo-text", f).value.trim() ? "" : "Write the response first.";
      default:
        return "";
    }
  }

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
    var dim = event.target.closest(".likert-dim");
    if (dim) activateDim(dim.closest(".wb-form"), $$(".likert-dim", dim.closest(".wb-form")).indexOf(dim));
    var card = event.target.closest(".rank-card");
    if (card) selectCard(card.closest(".wb-form"), card);
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
    var handler = KEYS[f.dataset.kind];
    if (handler && handler(f, event)) event.preventDefault();
  });

  var KEYS = {
    single_choice: function (f, e) {
      var radio = $('input[data-hotkey="' + CSS.escape(e.key) + '"]', f);
      if (!radio) return false;
      radio.checked = true; radio.focus();
      return true;
    },
    multi_choice: function (f, e) {
      var box = $('input[data-hotkey="' + CSS.escape(e.key) + '"]', f);
      if (!box) return false;
      box.checked = !box.checked; box.focus();
      return true;
    },
    likert: function (f, e) {
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
    pairwise: function (f, e) {
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
    ranking: function (f, e) {
      if (/^[1-9]$/.test(e.key)) {
        var card = $('.rank-card[data-number="' + e.key + '"]', f);
        if (!card) return false;
        selectCard(f, card);
        return true;
      }
      var selected = $(".rank-card.is-selected", f);
      if (!selected) return false;
      if (e.key === "ArrowUp" && selected.previousElementSibling) {
        selected.parentNode.insertBefore(selected, selected.previousElementSibling);
      } else if (e.key === "ArrowDown" && selected.nextElementSibling) {
        selected.parentNode.insertBefore(selected.nextElementSibling, selected);
      } else if (e.key === "t" && $(".ranking", f).dataset.allowTies === "1" && selected.previousElementSibling) {
        selected.classList.toggle("tied");
      } else if (e.key !== "ArrowUp" && e.key !== "ArrowDown") {
        return false;
      }
      renumber(f);
      selected.scrollIntoView({ block: "nearest" });
      return true;
    },
    demonstration: function (f, e) {
      if (e.key !== "e") return false;
      var text = $(".demo-text", f);
      text.focus();
      text.setSelectionRange(text.value.length, text.value.length);
      return true;
    },
  };

  function activateDim(f, index) {
    $$(".likert-dim", f).forEach(function (d, i) { d.classList.toggle("is-active", i === index); });
  }

  function setStep(f, step) {
    f.dataset.step = step;
    $$("fieldset[data-step]", f).forEach(function (fs) { fs.classList.toggle("is-step", fs.dataset.step === step); });
  }

  // --- Ranking --------------------------------------------------------------------------

  function selectCard(f, card) {
    $$(".rank-card", f).forEach(function (c) { c.classList.toggle("is-selected", c === card); c.setAttribute("aria-selected", String(c === card)); });
  }

  function tiers(f) {
    var out = [];
    $$(".rank-card", f).forEach(function (card, i) {
      var index = Number(card.dataset.index);
      if (i > 0 && card.classList.contains("tied")) out[out.length - 1].push(index);
      else out.push([index]);
    });
    return out;
  }

  function renumber(f) {
    var place = 0;
    $$(".rank-card", f).forEach(function (card, i) {
      if (i === 0) card.classList.remove("tied");
      if (!card.classList.contains("tied")) place += 1;
      var label = $(".rank-pos", card);
      label.textContent = "#" + place + (card.classList.contains("tied") ? " (tie)" : "");
      card.setAttribute("aria-label", "Response " + card.dataset.number + ", ranked " + place);
    });
  }

  var dragged = null;
  document.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest(".rank-card");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.dataset.number);
  });
  document.addEventListener("dragover", function (e) {
    var over = e.target.closest && e.target.closest(".rank-card");
    if (!dragged || !over || over === dragged || over.parentNode !== dragged.parentNode) return;
    e.preventDefault();
    var box = over.getBoundingClientRect();
    var after = e.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextElementSibling : over);
  });
  document.addEventListener("dragend", function () {
    if (!dragged) return;
    dragged.classList.remove("dragging");
    renumber(dragged.closest(".wb-form"));
    dragged = null;
  });

  // --- Demonstration: a word diff against the model's draft ------------------------------

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

  document.addEventListener("htmx:afterSwap", function () { activeMs = 0; setup(workbench()); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { setup(document); });
  else setup(document);
})();
