// Ledger page: the year's flows as a Sankey chart. Data comes from the page (json_script).
(function () {
  "use strict";
  const box = document.getElementById("ledger-sankey");
  const source = document.getElementById("sankey-data");
  if (!box || !source) { return; }
  const data = JSON.parse(source.textContent);
  const chart = echarts.init(box);
  chart.setOption({
    tooltip: { trigger: "item", triggerOn: "mousemove" },
    series: [{
      type: "sankey",
      data: data.nodes,
      links: data.links,
      emphasis: { focus: "adjacency" },
      lineStyle: { color: "gradient", curveness: 0.5 },
    }],
  });
  window.addEventListener("resize", () => chart.resize());
  box.dataset.ready = "true";
})();
