// RepairDesk analyst UI: table sorting, field <-> highlight linking, confirmations. No dependencies.
(function () {
  "use strict";

  function cellValue(row, index, kind) {
    var cell = row.children[index];
    var raw = cell.getAttribute("data-value") || cell.textContent.trim();
    return kind === "num" ? parseFloat(raw) || 0 : raw.toLowerCase();
  }

  function makeSortable(table) {
    table.querySelectorAll("th[data-sort]").forEach(function (th, index) {
      th.tabIndex = 0;
      th.addEventListener("click", function () {
        var kind = th.getAttribute("data-sort");
        var asc = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th").forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return r.dataset.case; });
        rows.sort(function (a, b) {
          var x = cellValue(a, index, kind), y = cellValue(b, index, kind);
          return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  function linkHighlights(doc) {
    function toggle(index, on) {
      doc.querySelectorAll('[data-field="' + index + '"]').forEach(function (el) {
        el.classList.toggle("active", on);
      });
    }
    doc.querySelectorAll("[data-field]").forEach(function (el) {
      var index = el.getAttribute("data-field");
      el.addEventListener("mouseenter", function () { toggle(index, true); });
      el.addEventListener("mouseleave", function () { toggle(index, false); });
    });
  }

  // Every POST form carries the session's CSRF token: forms that do not write it themselves get it here.
  function addCsrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (!meta) { return; }
    document.querySelectorAll('form[method="post"]').forEach(function (form) {
      if (form.querySelector('input[name="csrf_token"]')) { return; }
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "csrf_token";
      input.value = meta.getAttribute("content");
      form.appendChild(input);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    addCsrf();
    document.querySelectorAll("table.sortable").forEach(makeSortable);
    document.querySelectorAll("article.document").forEach(linkHighlights);
    document.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
})();
