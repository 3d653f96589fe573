// Network dashboard charts: a choropleth of room coverage (the city's counties, or a county
// alone and zoomed to it), a bar chart of a county's towns ranked (there are no town
// outlines) and a monthly trend. Data comes from the page (json_script); the county map is
// the project's own GeoJSON.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  // Distinct colours, one per series (never the same twice in a legend).
  const PALETTE = ["#1d6fb8", "#e8710a", "#2f9e44", "#ae3ec9", "#c92a2a", "#0c8599"];
  const charts = [];

  const mapBox = document.getElementById("coverage-map");
  if (mapBox && data.map.length) {
    fetch(mapBox.dataset.geojson)
      .then((response) => response.json())
      .then((geojson) => {
        let mapName = "chongqing";
        if (data.focus) {
          // Only the county's own outline: the map is centred and zoomed on it.
          geojson = {
            type: "FeatureCollection",
            features: geojson.features.filter((f) => f.properties.code === data.focus),
          };
          mapName = "county-" + data.focus;
        }
        echarts.registerMap(mapName, geojson);
        const chart = echarts.init(mapBox);
        charts.push(chart);
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
            type: "map", map: mapName, nameProperty: "name", roam: !data.focus,
            label: { show: Boolean(data.focus) },
            data: data.map.map((row) => ({ name: row.name, value: row.value, code: row.code, rooms: row.rooms, communities: row.communities })),
          }],
        });
        if (!data.focus) {
          chart.on("click", (p) => { if (p.data && p.data.code) { window.location = mapBox.dataset.link + p.data.code; } });
        }
        mapBox.dataset.ready = "true";
      });
  }

  const townBox = document.getElementById("towns-ranked");
  if (townBox && data.towns && data.towns.length) {
    const towns = data.towns.slice().reverse(); // the highest on top
    const chart = echarts.init(townBox);
    charts.push(chart);
    chart.setOption({
      color: [PALETTE[0]],
      tooltip: {
        trigger: "item",
        formatter: (p) => `${p.name}<br>${p.data.rooms} / ${p.data.communities} (${p.value}%)`,
      },
      grid: { left: 8, right: 48, top: 10, bottom: 20, containLabel: true },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: towns.map((t) => t.name), axisLabel: { interval: 0 } },
      series: [{
        name: townBox.dataset.label, type: "bar", barMaxWidth: 18,
        label: { show: true, position: "right", formatter: "{c}%" },
        data: towns.map((t) => ({ value: t.value, code: t.code, rooms: t.rooms, communities: t.communities })),
      }],
    });
    chart.on("click", (p) => { if (p.data && p.data.code) { window.location = townBox.dataset.link + p.data.code; } });
    townBox.dataset.ready = "true";
  }

  const trendBox = document.getElementById("coverage-trend");
  if (trendBox && data.trend.length) {
    const chart = echarts.init(trendBox);
    charts.push(chart);
    chart.setOption({
      color: PALETTE,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: data.trend.map((p) => p.month) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: trendBox.dataset.rooms, type: "line", showSymbol: false, data: data.trend.map((p) => p.rooms) },
        { name: trendBox.dataset.stations, type: "line", showSymbol: false, data: data.trend.map((p) => p.stations) },
        { name: trendBox.dataset.centres, type: "line", showSymbol: false, data: data.trend.map((p) => p.centres) },
      ],
    });
    trendBox.dataset.ready = "true";
  }
  window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));
})();
