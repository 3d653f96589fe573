// Network dashboard charts: a choropleth of room coverage by county and a monthly trend.
// Data comes from the page (json_script); the county map is the project's own GeoJSON.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  const mapBox = document.getElementById("coverage-map");
  if (mapBox && data.map.length) {
    fetch(mapBox.dataset.geojson)
      .then((response) => response.json())
      .then((geojson) => {
        echarts.registerMap("chongqing", geojson);
        const chart = echarts.init(mapBox);
        const values = data.map.map((row) => row.value);
        chart.setOption({
          tooltip: {
            trigger: "item",
            formatter: (p) => p.data ? `${p.data.name}<br>${p.data.rooms} / ${p.data.communities} (${p.data.value}%)` : p.name,
          },
          visualMap: {
            min: 0, max: Math.max(50, ...values), left: "left", bottom: 10,
            text: [mapBox.dataset.label, ""], calculable: true,
            inRange: { color: ["#f1f5f9", "#93c5fd", "#1d4ed8"] },
          },
          series: [{
            type: "map", map: "chongqing", nameProperty: "name", roam: true,
            data: data.map.map((row) => ({ name: row.name, value: row.value, code: row.code, rooms: row.rooms, communities: row.communities })),
          }],
        });
        chart.on("click", (p) => { if (p.data && p.data.code) { window.location = mapBox.dataset.link + p.data.code; } });
        window.addEventListener("resize", () => chart.resize());
        mapBox.dataset.ready = "true";
      });
  }
  const trendBox = document.getElementById("coverage-trend");
  if (trendBox && data.trend.length) {
    const chart = echarts.init(trendBox);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: data.trend.map((p) => p.month) },
      yAxis: { type: "value" },
      series: [
        { name: trendBox.dataset.rooms, type: "line", showSymbol: false, data: data.trend.map((p) => p.rooms) },
        { name: trendBox.dataset.stations, type: "line", showSymbol: false, data: data.trend.map((p) => p.stations) },
        { name: trendBox.dataset.centres, type: "line", showSymbol: false, data: data.trend.map((p) => p.centres) },
      ],
    });
    window.addEventListener("resize", () => chart.resize());
    trendBox.dataset.ready = "true";
  }
})();
