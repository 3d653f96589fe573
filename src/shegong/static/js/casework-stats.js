// The statistics page's chart (casework/stats.html): person-times by month, one stacked
// bar series per row of the table, each in its own colour; whole numbers on the axis.
(function () {
  "use strict";
  // Twelve colours that stay apart (the table gives at most twelve series).
  var PALETTE = ["#206bc4", "#f59f00", "#2fb344", "#d63939", "#ae3ec9", "#17a2b8",
                 "#74b816", "#f76707", "#4263eb", "#d6336c", "#0ca678", "#868e96"];
  var box = document.getElementById("person-times-chart");
  var source = document.getElementById("chart-data");
  if (!box || !source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var narrow = window.matchMedia("(max-width: 575.98px)").matches;
  var chart = echarts.init(box);
  chart.setOption({
    color: PALETTE,
    tooltip: { trigger: "axis" },
    legend: { type: "scroll", top: 0 },
    grid: { left: 8, right: 12, top: 40, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.months, axisLabel: { rotate: narrow ? 45 : 0 } },
    yAxis: { type: "value", minInterval: 1, axisLabel: { formatter: function (v) { return Math.round(v).toLocaleString("zh-CN"); } } },
    series: data.series.map(function (s) { return { name: s.name, type: "bar", stack: "all", data: s.data }; })
  });
  window.addEventListener("resize", function () { chart.resize(); });
  box.dataset.ready = "true";
})();
