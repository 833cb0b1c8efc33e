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

  // Drag over a value on a page image: its box (in the document's units) goes into the correction form.
  function selectBoxes(doc) {
    var form = doc.querySelector("form.correction");
    if (!form) { return; }
    doc.querySelectorAll(".page[data-page]").forEach(function (page) {
      var start = null, mark = null;
      function point(event) {
        var r = page.getBoundingClientRect();
        return { x: Math.min(Math.max(event.clientX - r.left, 0), r.width), y: Math.min(Math.max(event.clientY - r.top, 0), r.height), w: r.width, h: r.height };
      }
      page.addEventListener("mousedown", function (event) {
        event.preventDefault();
        start = point(event);
        if (mark) { mark.remove(); }
        mark = document.createElement("div");
        mark.className = "hl selection";
        page.appendChild(mark);
      });
      page.addEventListener("mousemove", function (event) {
        if (!start) { return; }
        var p = point(event);
        mark.style.left = (100 * Math.min(start.x, p.x) / p.w) + "%";
        mark.style.top = (100 * Math.min(start.y, p.y) / p.h) + "%";
        mark.style.width = (100 * Math.abs(p.x - start.x) / p.w) + "%";
        mark.style.height = (100 * Math.abs(p.y - start.y) / p.h) + "%";
      });
      page.addEventListener("mouseup", function (event) {
        if (!start) { return; }
        var p = point(event), sx = parseFloat(page.dataset.width) / p.w, sy = parseFloat(page.dataset.height) / p.h;
        var box = [Math.min(start.x, p.x) * sx, Math.min(start.y, p.y) * sy, Math.max(start.x, p.x) * sx, Math.max(start.y, p.y) * sy];
        form.elements.page.value = page.dataset.page;
        form.elements.bbox.value = box.map(function (v) { return v.toFixed(1); }).join(",");
        start = null;
      });
    });
  }

  function typing(event) {
    var tag = (event.target && event.target.tagName) || "";
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || event.ctrlKey || event.metaKey || event.altKey;
  }

  // The queue: j/k move the selection, Enter opens the case, a assigns it to me.
  function queueKeys(table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-case]"));
    if (!rows.length) { return; }
    var index = 0;
    function select(i) {
      rows[index].classList.remove("selected");
      index = Math.max(0, Math.min(rows.length - 1, i));
      rows[index].classList.add("selected");
      rows[index].scrollIntoView({ block: "nearest" });
    }
    select(0);
    document.addEventListener("keydown", function (event) {
      if (typing(event)) { return; }
      if (event.key === "j" || event.key === "ArrowDown") { select(index + 1); event.preventDefault(); }
      else if (event.key === "k" || event.key === "ArrowUp") { select(index - 1); event.preventDefault(); }
      else if (event.key === "Enter") { window.location.href = rows[index].getAttribute("data-href"); }
      else if (event.key === "a") {
        var assign = rows[index].querySelector("[data-assign]");
        if (assign) { assign.click(); }
      }
    });
  }

  // As-you-type checks of the per-field edit form; the server re-validates (schwifty) on save.
  var IBAN_LENGTHS = {AD: 24, AE: 23, AT: 20, BE: 16, BG: 22, CH: 21, CY: 28, CZ: 24, DE: 22, DK: 18,
    EE: 20, ES: 24, FI: 18, FR: 27, GB: 22, GR: 27, HR: 21, HU: 28, IE: 22, IS: 26, IT: 27, LI: 21,
    LT: 20, LU: 20, LV: 21, MC: 27, MT: 31, NL: 18, NO: 15, PL: 28, PT: 25, RO: 24, SA: 24, SE: 24,
    SI: 19, SK: 24, SM: 27, TR: 26};

  function ibanProblem(value) {
    var iban = value.replace(/\s+/g, "").toUpperCase();
    if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{8,30}$/.test(iban)) { return "not an IBAN: country code, 2 check digits, then 8 to 30 letters or digits"; }
    var expected = IBAN_LENGTHS[iban.slice(0, 2)];
    if (expected && iban.length !== expected) { return "a " + iban.slice(0, 2) + " IBAN has " + expected + " characters, this has " + iban.length; }
    var moved = iban.slice(4) + iban.slice(0, 4), remainder = 0;
    for (var i = 0; i < moved.length; i++) {
      var code = moved.charCodeAt(i);
      var digits = code >= 65 ? String(code - 55) : moved[i];
      for (var j = 0; j < digits.length; j++) { remainder = (remainder * 10 + Number(digits[j])) % 97; }
    }
    return remainder === 1 ? "" : "invalid IBAN checksum (mod 97)";
  }

  function fieldProblem(check, value, currencies) {
    if (!value.trim()) { return "the value is empty"; }
    if (check === "iban") { return ibanProblem(value); }
    if (check === "bic") {
      return /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(value.replace(/\s+/g, "").toUpperCase()) ? "" : "a BIC is 8 or 11 characters: bank (4 letters), country (2 letters), location (2), branch (3, optional)";
    }
    if (check === "currency") { return currencies.indexOf(value.trim().toUpperCase()) >= 0 ? "" : "not an ISO 4217 currency code"; }
    return "";
  }

  // A list field's lines (address, remittance): the rules of the message the repair is written in.
  function linesProblem(list) {
    var lines = [];
    list.querySelectorAll("input").forEach(function (input) {
      if (input.value.trim()) { lines.push(input.value.trim()); }
    });
    if (lines.join("\n") === (list.getAttribute("data-current") || "")) { return ""; }
    if (!lines.length) { return "at least one line is needed"; }
    var maxLines = parseInt(list.getAttribute("data-max-lines"), 10);
    var maxLength = parseInt(list.getAttribute("data-max-length"), 10);
    var swiftX = list.getAttribute("data-charset") === "x";
    if (maxLines && lines.length > maxLines) { return lines.length + " lines; at most " + maxLines + " here"; }
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i], where = "line " + (i + 1);
      if (/[\u0000-\u001f\u007f-\u009f]/.test(line)) { return where + " holds a control character"; }
      if (line.length > maxLength) { return where + " has " + line.length + " characters; at most " + maxLength + " a line"; }
      if (swiftX && !/^[A-Za-z0-9\/\-?:().,'+ ]*$/.test(line)) {
        return where + ": only letters, digits, space and / - ? : ( ) . , ' + in an MT message";
      }
      if (swiftX && /^[:\-]/.test(line)) { return where + " may not start with : or - in an MT message"; }
    }
    return "";
  }

  function wireLines(list) {
    var row = list.parentNode;
    var box = row.querySelector("[data-field-error]");
    function check() {
      var problem = linesProblem(list);
      box.textContent = problem;
      list.querySelectorAll("input").forEach(function (input) {
        input.setAttribute("aria-invalid", problem ? "true" : "false");
      });
      return !problem;
    }
    function wireItem(item) {
      item.querySelector("input").addEventListener("input", check);
      item.querySelector("[data-remove-line]").addEventListener("click", function () {
        item.remove();
        check();
      });
    }
    list.querySelectorAll("li").forEach(wireItem);
    row.querySelector("[data-add-line]").addEventListener("click", function () {
      var next = parseInt(list.getAttribute("data-next"), 10) || 0;
      list.setAttribute("data-next", String(next + 1));
      var item = document.createElement("li");
      var input = document.createElement("input");
      input.name = "line:" + list.getAttribute("data-field") + ":" + next;
      input.autocomplete = "off";
      input.size = 30;
      input.setAttribute("aria-label", "new line " + (list.children.length + 1));
      var remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Remove";
      remove.setAttribute("data-remove-line", "");
      item.appendChild(input);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(remove);
      list.appendChild(item);
      wireItem(item);
      input.focus();
    });
    return check;
  }

  function wireEditForm(fieldset) {
    var currencies = (fieldset.getAttribute("data-currencies") || "").split(" ");
    var inputs = fieldset.querySelectorAll("input[data-check]");
    var lineChecks = [];
    fieldset.querySelectorAll("ol[data-lines]").forEach(function (list) { lineChecks.push(wireLines(list)); });
    function check(input) {
      var unchanged = input.value.trim() === (input.getAttribute("data-current") || "");
      var problem = unchanged ? "" : fieldProblem(input.getAttribute("data-check"), input.value, currencies);
      var box = input.parentNode.querySelector("[data-field-error]");
      box.textContent = problem;
      input.setAttribute("aria-invalid", problem ? "true" : "false");
      return !problem;
    }
    inputs.forEach(function (input) {
      input.addEventListener("input", function () { check(input); });
    });
    var save = fieldset.querySelector("button[value=edit]");
    if (save) {
      save.addEventListener("click", function (event) {
        var ok = true;
        inputs.forEach(function (input) { ok = check(input) && ok; });
        lineChecks.forEach(function (checkLines) { ok = checkLines() && ok; });
        if (!ok) { event.preventDefault(); }  // the typed text stays in place to be corrected
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("fieldset[data-currencies]").forEach(wireEditForm);
    addCsrf();
    document.querySelectorAll("article.document").forEach(selectBoxes);
    document.querySelectorAll("table.queue").forEach(queueKeys);
    var nextLink = document.querySelector("[data-key-next]");
    if (nextLink) {
      document.addEventListener("keydown", function (event) {
        if (!typing(event) && event.key === "n") { window.location.href = nextLink.getAttribute("href"); }
      });
    }
    document.querySelectorAll("[data-select-eligible]").forEach(function (button) {
      button.addEventListener("click", function () {
        document.querySelectorAll("input[data-eligible]").forEach(function (box) { box.checked = true; });
      });
    });
    // A rejection needs a reason code or a comment (the server checks it too).
    document.querySelectorAll("button[data-reject]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        var form = button.form;
        var reason = form.querySelector("#reason_code"), comment = form.querySelector("#comment");
        if (!(reason && reason.value) && !(comment && comment.value.trim())) {
          event.preventDefault();
          event.stopImmediatePropagation();
          window.alert("Choose a reject reason or write a comment.");
        }
      });
    });
    document.querySelectorAll("table.sortable").forEach(makeSortable);
    document.querySelectorAll("article.document").forEach(linkHighlights);
    document.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
})();
