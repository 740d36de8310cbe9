/* The SQL editor of the plan forms: CodeMirror 5 (static/vendor/codemirror) on every
   <textarea data-sql-editor>, with PostgreSQL highlighting and Ctrl-Space completion of the
   target's schemas, tables and columns.

   Progressive enhancement: the textarea stays the form field. The editor copies its text back
   on every change (and again before an htmx request), so a plain submit, an htmx submit and a
   page without JavaScript all send the same field. The editor instance is kept on the textarea
   as `textarea.sqlEditor` (tests/browser/conftest.py fill_sql uses it).

   Completion: the form carries data-sql-completion, the URL of the target's catalog
   (migrations_app/views/completion.py). On the new-plan form the target is chosen in a select
   named by data-sql-completion-select; the URL then ends in /0/, replaced by the chosen target,
   and changing the select reloads the list. data-sql-schema (or the form's schema input) is
   the schema whose tables are also offered unqualified. A target that cannot be read gives
   keywords only and a quiet note under the editor. */
(function () {
  "use strict";

  // base.html loads this file on every page; CodeMirror itself (static/vendor/codemirror, the
  // paths on this script's data attributes) is fetched only once a page has an editor field.
  var self = document.currentScript;
  var vendor = self ? self.getAttribute("data-codemirror") : "";
  var ownStyles = self ? self.getAttribute("data-stylesheet") : "";
  var editorLoaded = null;

  function addStylesheet(href) {
    return new Promise(function (resolve) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = href;
      link.onload = resolve;
      link.onerror = resolve;  // unstyled is still usable
      document.head.appendChild(link);
    });
  }

  function addScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.async = false;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function loadEditor() {
    if (!editorLoaded) {
      if (window.CodeMirror && CodeMirror.hint && CodeMirror.hint.sql) {
        editorLoaded = Promise.resolve();
      } else if (!vendor) {
        editorLoaded = Promise.reject(new Error("no CodeMirror path"));
      } else {
        var styles = [vendor + "lib/codemirror.css", vendor + "addon/hint/show-hint.css"];
        if (ownStyles) styles.push(ownStyles);
        var scripts = ["lib/codemirror.js", "mode/sql/sql.js", "addon/hint/show-hint.js", "addon/hint/sql-hint.js"]
          .reduce(function (ready, path) {
            return ready.then(function () { return addScript(vendor + path); });
          }, Promise.resolve());
        editorLoaded = Promise.all([scripts].concat(styles.map(addStylesheet)));
      }
    }
    return editorLoaded;
  }

  var catalogs = {};  // url -> promise of the endpoint's JSON: one request per target and page

  function loadCatalog(url) {
    if (!catalogs[url]) {
      catalogs[url] = fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) {
          if (!response.ok) return {ok: false, error: "the completion list is not available (HTTP " + response.status + ")"};
          return response.json();
        })
        .catch(function () { return {ok: false, error: "the completion list could not be loaded"}; });
    }
    return catalogs[url];
  }

  function completionUrl(form) {
    if (!form || !form.dataset.sqlCompletion) return "";
    var url = form.dataset.sqlCompletion;
    var selectId = form.dataset.sqlCompletionSelect;
    if (!selectId) return url;
    var select = document.getElementById(selectId);
    if (!select || !/^\d+$/.test(select.value)) return "";
    return url.replace(/\/0\/$/, "/" + select.value + "/");
  }

  function defaultSchema(form) {
    if (!form) return "public";
    var input = form.querySelector("input[name=schema]");
    return (input && input.value.trim()) || form.dataset.sqlSchema || "public";
  }

  // A name as it is written in SQL: quoted unless it is a plain lower-case identifier.
  function ident(name) {
    return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : '"' + name.replace(/"/g, '""') + '"';
  }

  function quoteParts(text) {
    return text.split(".").map(function (part) { return part.charAt(0) === '"' ? part : ident(part); }).join(".");
  }

  // The sql-hint addon's table map: "schema.table" for every relation, and the bare name for
  // those in the default schema (what an unqualified name in the plan refers to). Names stay as
  // the catalog spells them, so typing the first letters finds them; sqlHint quotes what needs it.
  function hintTables(data, schema) {
    var tables = {};
    var schemas = (data && data.schemas) || {};
    Object.keys(schemas).forEach(function (nsp) {
      Object.keys(schemas[nsp]).forEach(function (name) {
        var rel = schemas[nsp][name];
        var kind = rel.kind && rel.kind !== "table" ? " · " + rel.kind : "";
        var qualified = nsp + "." + name;
        tables[qualified] = {text: qualified, displayText: quoteParts(qualified) + kind, columns: rel.columns};
        if (nsp === schema) tables[name] = {text: name, displayText: ident(name) + kind, columns: rel.columns};
      });
    });
    return tables;
  }

  // The addon's completions, with every name that is not a plain lower-case identifier quoted
  // as PostgreSQL needs it ("Sales"."Orders"); keywords are left alone.
  function sqlHint(cm, options) {
    var result = CodeMirror.hint.sql(cm, options);
    if (result && result.list) {
      result.list = result.list.map(function (item) {
        var entry = typeof item === "string" ? {text: item} : item;
        if (entry.className && entry.className.indexOf("keyword") >= 0) return item;
        var quoted = quoteParts(entry.text);
        if (quoted === entry.text) return item;
        return {text: quoted, displayText: entry.displayText || quoted, className: entry.className};
      });
    }
    return result;
  }

  function relationCount(data) {
    return data && typeof data.relation_count === "number" ? data.relation_count : 0;
  }

  function statusFor(cm) {
    var wrapper = cm.getWrapperElement();
    var status = wrapper.nextElementSibling;
    if (!status || !status.classList.contains("sql-editor-status")) {
      status = document.createElement("small");
      status.className = "muted sql-editor-status";
      wrapper.parentNode.insertBefore(status, wrapper.nextSibling);
    }
    return status;
  }

  function refreshCompletion(cm) {
    var form = cm.getTextArea().form;
    var url = completionUrl(form);
    var status = statusFor(cm);
    var schema = defaultSchema(form);
    cm.setOption("hintOptions", {hint: sqlHint, tables: {}, completeSingle: false});
    if (!url) {
      status.textContent = "Ctrl-Space completes SQL keywords; choose a target to complete its tables and columns.";
      return;
    }
    status.textContent = "Loading the target's tables for completion…";
    cm.sqlCompletionUrl = url;
    loadCatalog(url).then(function (data) {
      if (cm.sqlCompletionUrl !== url) return;  // the target changed meanwhile
      if (!data || !data.ok) {
        status.textContent = "Ctrl-Space completes SQL keywords only: " + ((data && data.error) || "no table list");
        status.classList.add("sql-editor-unavailable");
        return;
      }
      status.classList.remove("sql-editor-unavailable");
      cm.setOption("hintOptions", {hint: sqlHint, tables: hintTables(data, schema), completeSingle: false});
      var n = relationCount(data);
      status.textContent = "Ctrl-Space completes keywords and the " + n.toLocaleString("en") + " tables and views of "
        + (data.target || "the target") + " (unqualified: " + schema + ")."
        + (data.truncated ? " " + (data.note || "The list was cut.") : "");
    });
  }

  function attach(textarea) {
    if (textarea.sqlEditor || !document.documentElement.contains(textarea)) return;
    var rows = parseInt(textarea.getAttribute("rows"), 10) || 4;
    var cm = CodeMirror.fromTextArea(textarea, {
      mode: "text/x-pgsql",
      lineNumbers: rows > 4,
      lineWrapping: true,
      indentUnit: 2,
      tabSize: 2,
      readOnly: textarea.readOnly || textarea.disabled,
      extraKeys: {"Ctrl-Space": "autocomplete", "Tab": false, "Shift-Tab": false},
      hintOptions: {hint: sqlHint, tables: {}, completeSingle: false}
    });
    textarea.sqlEditor = cm;
    // CodeMirror hides the textarea with a style attribute; a class does it instead, because htmx
    // copies the attributes of an element it replaces (same id) onto the new one with
    // setAttribute("style"), which the Content-Security-Policy refuses.
    // (Reading the attribute first makes Chromium write back the style it keeps lazily; without
    // that read, a removed attribute comes back later as style="".)
    textarea.getAttribute("style");
    textarea.removeAttribute("style");
    textarea.classList.add("sql-editor-source");
    cm.getWrapperElement().classList.add("sql-editor", rows > 4 ? "sql-editor-tall" : "sql-editor-short");
    // Sized like the textarea it replaces: its rows, in the editor's line height.
    var lines = cm.defaultTextHeight() * rows + 10;
    if (rows > 4) {
      cm.setSize(null, lines);
    } else {
      cm.setSize(null, "auto");
      cm.getScrollerElement().style.minHeight = lines + "px";
    }
    cm.on("change", function () { cm.save(); });
    if (textarea.id) {  // the field's <label for> focuses the editor
      document.querySelectorAll('label[for="' + textarea.id + '"]').forEach(function (label) {
        label.addEventListener("click", function () { cm.focus(); });
      });
    }
    refreshCompletion(cm);
  }

  function editorsIn(form) {
    return Array.prototype.filter.call(form.querySelectorAll("textarea[data-sql-editor]"),
      function (t) { return t.sqlEditor; }).map(function (t) { return t.sqlEditor; });
  }

  // A different target (or default schema) on the new-plan form: reload the completion list.
  document.addEventListener("change", function (event) {
    var el = event.target;
    var form = el.form;
    if (!form || !form.dataset.sqlCompletion) return;
    if (el.id === form.dataset.sqlCompletionSelect || el.name === "schema") editorsIn(form).forEach(refreshCompletion);
  });

  // The textarea already follows every change; an htmx request gets the editor's text for certain.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    var form = elt && (elt.tagName === "FORM" ? elt : elt.form || (elt.closest && elt.closest("form")));
    if (!form) return;
    editorsIn(form).forEach(function (cm) {
      cm.save();
      var name = cm.getTextArea().name;
      if (name && event.detail.parameters) event.detail.parameters[name] = cm.getValue();
    });
  });
  document.addEventListener("submit", function (event) {
    if (event.target.tagName === "FORM") editorsIn(event.target).forEach(function (cm) { cm.save(); });
  }, true);

  function init(root) {
    var scope = root.querySelectorAll ? root : document;
    var fields = Array.prototype.slice.call(scope.querySelectorAll("textarea[data-sql-editor]"));
    if (scope.matches && scope.matches("textarea[data-sql-editor]")) fields.push(scope);
    if (!fields.length) return;
    loadEditor().then(function () { fields.forEach(attach); }, function () { /* the plain textarea stays */ });
  }

  // For scripts and browser tests: the editor of a field once it is attached (null without one).
  window.DataflowSqlEditor = {
    whenReady: function (textarea) {
      return loadEditor().then(function () { attach(textarea); return textarea.sqlEditor || null; },
                               function () { return null; });
    }
  };

  if (window.htmx) {
    htmx.onLoad(init);  // the page itself, then every fragment htmx swaps in
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
})();
