/* Page behaviour that used to sit in inline scripts and on* attributes, moved here so the
   Content-Security-Policy can forbid inline script. Each part is wired by a data attribute and
   runs again on every fragment htmx swaps in. */
(function () {
  "use strict";

  // Plotly figures arrive as JSON data blocks (dataflow_site/figures.py). plotly.js (1.2 MB) is
  // fetched only once a page or a swapped-in tab has a chart: the holder names the bundle in
  // data-plotly (pages that open on a chart load it async from <head>); the charts are drawn when it ran.
  // One bundle per page: a page's charts all name the same one.
  var plotlyLoading = false;

  function loadPlotly(src) {
    if (plotlyLoading || !src) return;
    plotlyLoading = true;
    // a page that opens on a chart has the bundle in <head> already (async): wait for that one
    var script = document.querySelector("script[data-plotly-bundle]");
    if (!script) {
      script = document.createElement("script");
      script.src = src;
      script.async = true;
      script.setAttribute("data-plotly-bundle", "");
      document.head.appendChild(script);
    }
    script.addEventListener("load", function () { drawCharts(document); });
  }

  function drawCharts(root) {
    if (typeof Plotly === "undefined") {
      var waiting = root.querySelector("[data-chart][data-plotly]:not([data-drawn])");
      if (waiting) loadPlotly(waiting.getAttribute("data-plotly"));
      return;
    }
    root.querySelectorAll("[data-chart]:not([data-drawn])").forEach(function (holder) {
      var block = holder.querySelector("script.chart-data");
      if (!block) return;
      var figure = JSON.parse(block.textContent);
      var target = document.createElement("div");
      holder.appendChild(target);
      holder.setAttribute("data-drawn", "");
      Plotly.newPlot(target, figure.data, figure.layout, figure.config).then(function () {
        holder.setAttribute("data-drawn", "done");
      });
    });
  }

  // Progress bars: the width comes from data-progress (a style attribute would need 'unsafe-inline').
  function sizeProgress(root) {
    root.querySelectorAll("[data-progress]").forEach(function (bar) {
      var value = parseFloat(bar.getAttribute("data-progress"));
      bar.style.width = (isFinite(value) ? Math.max(0, Math.min(100, value)) : 0) + "%";
    });
  }

  // A select with data-autosubmit submits its form when changed (list filters).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) {
      if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
    }
    if (el.matches && el.matches("[data-filter-table]")) filterRows(el);
  });

  // Client-side row filter: selects with data-filter-table="#table" and data-filter-key="type"
  // hide the rows whose data-<key> differs (the dependency tab).
  function filterRows(changed) {
    var table = document.querySelector(changed.getAttribute("data-filter-table"));
    if (!table) return;
    var filters = Array.prototype.map.call(
      document.querySelectorAll('[data-filter-table="' + changed.getAttribute("data-filter-table") + '"]'),
      function (s) { return [s.getAttribute("data-filter-key"), s.value]; });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      row.hidden = filters.some(function (f) { return f[1] && row.dataset[f[0]] !== f[1]; });
    });
  }

  // Forms marked data-no-submit only host client-side controls.
  document.addEventListener("submit", function (event) {
    if (event.target.matches && event.target.matches("form[data-no-submit]")) event.preventDefault();
  });

  // Tabs: the clicked tab is marked active at once (htmx then swaps the body).
  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest(".tabs a");
    if (!tab) return;
    tab.parentNode.querySelectorAll("a").forEach(function (a) { a.classList.remove("active"); });
    tab.classList.add("active");
  });

  function init(root) {
    drawCharts(root);
    sizeProgress(root);
  }

  if (window.htmx) {
    htmx.onLoad(init);  // the page itself, then every swapped fragment
  } else {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  }
})();
