// Ranking: a number picks a response, arrows move it, t ties it with the one above; the
// cards can be dragged too. The order goes to the server as JSON tiers, best first. The
// starting order is random, so it is sent only once the rater has moved a card or pressed c
// to keep it as shown.
(function () {
  "use strict";
  var $ = window.VoxKinds.$, $$ = window.VoxKinds.$$;

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

  function touch(f, confirmed) {
    var box = $(".ranking", f);
    box.dataset.touched = "1";
    var note = $(".rank-confirmed", f);
    if (note) note.hidden = !confirmed;
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
    touch(dragged.closest(".wb-form"), false);
    renumber(dragged.closest(".wb-form"));
    dragged = null;
  });

  document.addEventListener("click", function (event) {
    var card = event.target.closest && event.target.closest(".rank-card");
    if (card) selectCard(card.closest(".wb-form"), card);
  });

  window.VoxKinds.register("ranking", {
    setup: renumber,
    check: function (f) {
      return $(".ranking", f).dataset.touched === "1"
        ? ""
        : "Order the responses first: move one (↑ ↓ or drag), or press c to keep the order as shown.";
    },
    beforeSubmit: function (f) { $('input[name="ranking"]', f).value = JSON.stringify(tiers(f)); },
    key: function (f, e) {
      if (e.key === "c") { touch(f, true); return true; }
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
      touch(f, false);
      renumber(f);
      selected.scrollIntoView({ block: "nearest" });
      return true;
    },
  });
})();
