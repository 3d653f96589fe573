// Workforce dashboard: a bar chart of social workers in post by qualification, drawn when
// its panel arrives (htmx loads the panels after the page). Data from json_script.
(function () {
  "use strict";
  function draw() {
    const box = document.getElementById("qualification-chart");
    const source = document.getElementById("chart-data");
    if (!box || !source || box.dataset.ready === "true" || typeof echarts === "undefined") {
      return;
    }
    const rows = JSON.parse(source.textContent).qualification;
    const chart = echarts.init(box);
    chart.setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 50, right: 20, top: 20, bottom: 40 },
      xAxis: { type: "category", data: rows.map((r) => r.label) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: rows.map((r) => r.value), itemStyle: { color: "#206bc4" } }],
    });
    window.addEventListener("resize", () => chart.resize());
    box.dataset.ready = "true";
  }
  document.addEventListener("htmx:afterSettle", draw);
  document.addEventListener("DOMContentLoaded", draw);
})();
