// 案件地图: open (or only overdue) cases over Xining's district outlines. The server counts them
// per grid cell for the extent in view (GET /api/v1/stats/case-map/), so the page draws a few
// thousand points at most however many cases there are. A cell of one case opens it; a larger
// cell zooms in, and every zoom or pan asks for the cells of the new extent. The table below
// holds the busiest cells with the same actions, for the keyboard and screen readers.

import { api, showErrors, t } from "./api.js";
import { el, fmt } from "./ui.js";
import { chart, fillTable, num, periodIsValid } from "./dashboard-common.js";

const form = document.getElementById("map-filters");
const status = document.getElementById("map-status");
const box = document.getElementById("case-map");
const table = document.getElementById("map-table");
const MAP_NAME = "xining";
const FINEST_CELL = 0.0005; // stats.api.map.CELL_SIZES[0]: a cell that cannot be split further
const ZOOM_STEP = 4;
const TABLE_ROWS = 50;

let view = { center: null, zoom: 1 }; // the whole city
let latest = 0; // the newest load: an older answer arriving after it is dropped
let cells = [];
let cellSize = null;

async function registerMap() {
  if (window.echarts.getMap(MAP_NAME)) return;
  const response = await fetch(box.dataset.geojson, { credentials: "same-origin" });
  if (!response.ok) throw new Error(response.statusText);
  window.echarts.registerMap(MAP_NAME, await response.json());
}

function params() {
  return {
    category: form.elements.category.value,
    from: form.elements.from.value,
    to: form.elements.to.value,
    status: form.elements.status.value,
  };
}

// The extent on screen as "west,south,east,north", or nothing for the whole city.
function bbox() {
  const instance = window.echarts.getInstanceByDom(box);
  if (!instance || view.zoom <= 1) return undefined;
  const [west, north] = instance.convertFromPixel({ geoIndex: 0 }, [0, 0]);
  const [east, south] = instance.convertFromPixel({ geoIndex: 0 }, [box.clientWidth, box.clientHeight]);
  return [west, south, east, north].map((v) => v.toFixed(5)).join(",");
}

// The cells of several cases are drawn as squares of the cell's size, tiling the map like a
// heat layer, darker for more cases (on a log scale: a city centre has thousands where a
// village has two; how many are overdue is in the tooltip and the table, and "仅超期" maps
// only those); a case alone in its cell is a dot where it is, red when overdue. The squares'
// size in pixels follows the zoom (``fit``).
const LOG = 5; // where each tile's value carries log10(count), for the colour scale

function split() {
  const tiles = [];
  const singles = [];
  for (const [lng, lat, count, overdue, id] of cells) {
    if (count === 1) {
      singles.push([lng, lat, count, overdue, id]);
    } else {
      const centre = (v) => (Math.floor(v / cellSize) + 0.5) * cellSize;
      tiles.push([centre(lng), centre(lat), count, overdue, null, Math.log10(count)]);
    }
  }
  return { tiles, singles };
}

function option() {
  const { tiles, singles } = split();
  const most = Math.max(2, ...tiles.map((c) => c[2]));
  return {
    tooltip: {
      trigger: "item",
      // An element, not an HTML string: ECharts shows it as it is, so nothing is parsed.
      formatter: (item) => (item.seriesType === "scatter"
        ? el("div", {}, fmt("cell_label", { count: num(item.value[2]), overdue: num(item.value[3]) }))
        : el("div", {}, item.name)),
    },
    visualMap: {
      type: "continuous",
      seriesIndex: 0,
      dimension: LOG,
      min: Math.log10(2),
      max: Math.max(Math.log10(most), Math.log10(2) + 0.01),
      text: [num(most), "2"],
      inRange: { color: ["#c9dcf0", "#5b8cc9", "#0b2f5e"] },
      calculable: false,
      left: 8,
      bottom: 8,
      itemHeight: 90,
      textStyle: { color: "#1f2d3d" },
    },
    geo: {
      map: MAP_NAME,
      roam: true,
      zoom: view.zoom,
      center: view.center || undefined,
      scaleLimit: { min: 1, max: 2000 },
      label: { show: true, color: "#1f2d3d", fontSize: 11 },
      itemStyle: { areaColor: "#eef2f7", borderColor: "#5b6b7f" },
      emphasis: { label: { show: true }, itemStyle: { areaColor: "#dde6f2" } },
      select: { disabled: true },
    },
    series: [
      {
        id: "tiles",
        type: "scatter",
        coordinateSystem: "geo",
        symbol: "rect",
        symbolSize: 6,
        data: tiles,
        itemStyle: { opacity: 0.85, borderColor: "#fff", borderWidth: 1 },
        label: {
          show: false,
          formatter: (item) => String(item.value[2]),
          color: "#fff",
          textBorderColor: "#0b2f5e",
          textBorderWidth: 2,
          fontSize: 11,
        },
      },
      {
        id: "cases",
        type: "scatter",
        coordinateSystem: "geo",
        symbolSize: 10,
        data: singles,
        itemStyle: { color: (item) => (item.value[3] > 0 ? "#a52834" : "#1a4d8f"), borderColor: "#fff", borderWidth: 1 },
        emphasis: { scale: 1.5 },
      },
    ],
  };
}

// The squares' size: one cell's width and height in pixels at the current zoom (at least 4).
function fit(instance) {
  if (!cellSize) return;
  const [x0, y0] = instance.convertToPixel({ geoIndex: 0 }, [101.7, 36.6]);
  const [x1, y1] = instance.convertToPixel({ geoIndex: 0 }, [101.7 + cellSize, 36.6 + cellSize]);
  const width = Math.max(4, Math.abs(x1 - x0) - 1);
  const height = Math.max(4, Math.abs(y1 - y0) - 1);
  instance.setOption({
    series: [{ id: "tiles", symbolSize: [width, height], label: { show: width >= 26 && height >= 16 } }],
  });
}

let wired = false;
function draw(summary) {
  const instance = chart(box, option(), summary);
  if (!instance) return;
  fit(instance);
  if (wired) return;
  wired = true;
  instance.on("click", "series.scatter", (item) => act(item.value));
  // A zoom or pan by wheel, pinch or drag: keep the new view, then ask for its cells.
  let timer = null;
  instance.on("georoam", () => {
    const geo = instance.getOption().geo[0];
    view = { center: geo.center, zoom: geo.zoom };
    clearTimeout(timer);
    timer = setTimeout(load, 300);
  });
}

// A cell of one case opens it; a larger one zooms in around it (until the finest cells).
function act(value) {
  const [lng, lat, count, , id] = value;
  if (count === 1 && id) {
    window.location.assign(`/workbench/cases/${id}/`);
  } else if (cellSize !== null && cellSize <= FINEST_CELL) {
    status.textContent = fmt("zoom_limit", { count });
  } else {
    zoomTo(lng, lat);
  }
}

function zoomTo(lng, lat) {
  view = { center: [lng, lat], zoom: view.zoom * ZOOM_STEP };
  draw(); // the new view first: the extent asked for is the one on screen
  load();
}

function showTable() {
  const busiest = [...cells].sort((a, b) => b[2] - a[2]).slice(0, TABLE_ROWS);
  fillTable(table, busiest.map(([lng, lat, count, overdue, id]) => [
    fmt("cell_position", { lat: lat.toFixed(4), lng: lng.toFixed(4) }),
    num(count),
    num(overdue),
    count === 1 && id
      ? el("a", { href: `/workbench/cases/${id}/` }, t("open_case"))
      : el("button", {
        type: "button", class: "btn btn-sm btn-outline-secondary",
        "aria-label": `${t("zoom_in")} ${fmt("cell_position", { lat: lat.toFixed(4), lng: lng.toFixed(4) })}`,
        onclick: () => {
          zoomTo(lng, lat);
          box.scrollIntoView({ block: "nearest" });
        },
      }, t("zoom_in")),
  ]));
}

async function load() {
  const mine = ++latest;
  const p = params();
  if (!periodIsValid(form, p)) return;
  status.textContent = t("loading");
  try {
    const data = await api("/api/v1/stats/case-map/", { params: { ...p, bbox: bbox() } });
    if (mine !== latest) return;
    cells = data.cells;
    cellSize = data.cell;
    const values = { total: num(data.total), overdue: num(data.overdue), cells: num(cells.length) };
    const summary = fmt(p.status === "overdue" ? "map_summary_overdue" : "map_summary", values);
    draw(summary);
    showTable();
    status.textContent = fmt("updated_map", values);
    const query = new URLSearchParams(Object.entries(p).filter(([, v]) => v));
    history.replaceState(null, "", `?${query}`);
    document.body.dataset.mapReady = String(Date.now());
  } catch (error) {
    if (mine !== latest) return;
    showErrors(form, error);
    status.textContent = error.message;
  }
}

async function loadCategories() {
  const select = form.elements.category;
  const categories = await api("/api/v1/categories/");
  const roots = categories.filter((c) => !c.parent);
  for (const root of roots) {
    select.add(new Option(root.name, root.id));
    for (const child of categories.filter((c) => c.parent === root.id)) {
      select.add(new Option(`— ${child.name}`, child.id));
    }
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
for (const name of ["category", "status"]) form.elements[name].addEventListener("change", load);
document.getElementById("m-whole").addEventListener("click", () => {
  view = { center: null, zoom: 1 };
  draw();
  load();
});

const query = new URLSearchParams(window.location.search);
const chosenCategory = query.get("category") || "";
for (const name of ["from", "to", "status"]) {
  if (query.get(name)) form.elements[name].value = query.get(name);
}
Promise.all([registerMap(), loadCategories().catch(() => {})])
  .then(() => {
    form.elements.category.value = chosenCategory;
    load();
  })
  .catch(() => {
    box.hidden = true; // no outlines: the table still lists the cells
    load();
  });
