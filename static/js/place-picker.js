// 选择位置: the place picker of the complaint forms (我要反映 and 电话登记).
// "Use my location" asks the browser (navigator.geolocation); or a click on a small map of
// Xining drawn by ECharts from the packaged district outlines (static/vendor, no tiles, no
// request to another host) puts a marker there. Either way the hidden lat/lng inputs are
// filled and the district under the point (found here, point in polygon) is handed to the
// page, which selects it as if the user had. The address stays free text, and the map is only
// an aid: the region selects work without it, and with the keyboard the map's marker moves
// with the arrow keys.
//
// Markup: <div id="…" data-echarts="…echarts.min.js" data-geojson="…630100.json"> (its label
// inside; the picker appends its controls) with <input type="hidden" name="lat"> and
// name="lng" in the same form.

import { t } from "./api.js";
import { el, fmt } from "./ui.js";

const MAP_NAME = "xining-picker";
const KEY_STEP = 0.002; // degrees the marker moves per arrow key (about 200 m); ×10 with Shift
const ZOOM_IN = 6; // a first click on the whole city zooms here, so the next one can be precise
const GEO_TIMEOUT_MS = 15000;

// --- point in polygon (ray casting), for GeoJSON Polygon and MultiPolygon with holes ------------

// A ray from (x, y) to the east crosses the ring's edges an odd number of times when inside.
function inRing(x, y, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// A polygon is [outer ring, hole, hole …]: inside the outer ring and in none of its holes.
function inPolygon(x, y, rings) {
  return inRing(x, y, rings[0]) && !rings.slice(1).some((hole) => inRing(x, y, hole));
}

export function featureAt(geojson, lng, lat) {
  return geojson.features.find(({ geometry }) => {
    if (!geometry) return false;
    if (geometry.type === "Polygon") return inPolygon(lng, lat, geometry.coordinates);
    if (geometry.type === "MultiPolygon") return geometry.coordinates.some((p) => inPolygon(lng, lat, p));
    return false;
  });
}

// --- loading ECharts and the outlines once per page ----------------------------------------------

let echartsLoading = null;
function loadECharts(src) {
  if (window.echarts) return Promise.resolve(window.echarts);
  // A script element with a same-origin src (the CSP allows 'self'): loaded only when a page
  // has a picker, so the form itself does not wait for a megabyte of charting code.
  echartsLoading ??= new Promise((resolve, reject) => {
    const script = el("script", { src });
    script.addEventListener("load", () => resolve(window.echarts));
    script.addEventListener("error", () => {
      echartsLoading = null;
      reject(new Error("echarts"));
    });
    document.head.append(script);
  });
  return echartsLoading;
}

async function loadOutlines(src) {
  const response = await fetch(src, { credentials: "same-origin" });
  if (!response.ok) throw new Error(response.statusText);
  return response.json();
}

const round6 = (value) => Math.round(value * 1e6) / 1e6;

// --- the picker ------------------------------------------------------------------------------------

// placePicker(root, {onDistrict(name)}) → {clear()}. ``onDistrict`` receives the district's
// name as the outlines spell it (城东区 …), or "" when the point is outside every district.
export function placePicker(root, { onDistrict = () => {} } = {}) {
  const form = root.closest("form");
  const latInput = form.elements.lat;
  const lngInput = form.elements.lng;
  const id = root.id || "place";

  const locate = el("button", { type: "button", class: "btn btn-outline-primary btn-sm" }, t("place_locate"));
  const whole = el("button", { type: "button", class: "btn btn-outline-secondary btn-sm", hidden: true }, t("place_whole_city"));
  const clearButton = el("button", { type: "button", class: "btn btn-outline-secondary btn-sm", hidden: true }, t("place_clear"));
  const help = el("p", { class: "form-text mt-1 mb-1", id: `${id}-help` }, t("place_help"));
  const box = el("div", {
    class: "xn-place-map", id: `${id}-map`, tabindex: 0, role: "application",
    "aria-label": t("place_map_label"), "aria-describedby": `${id}-help ${id}-status`, hidden: true,
  });
  const status = el("p", { class: "xn-place-status small mb-0", id: `${id}-status`, role: "status", "aria-live": "polite" });
  root.append(el("div", { class: "d-flex flex-wrap gap-2" }, locate, whole, clearButton), help, box, status);

  let geojson = null;
  let chart = null;
  let point = null; // [lng, lat]
  let view = { center: null, zoom: 1 };

  function option() {
    return {
      aria: { enabled: false },
      animation: false,
      geo: {
        map: MAP_NAME, roam: false, zoom: view.zoom, center: view.center || undefined,
        label: { show: view.zoom > 1, fontSize: 11, color: "#1f2d3d" },
        itemStyle: { areaColor: "#eef2f7", borderColor: "#5b6b7f" },
        emphasis: { disabled: true },
        select: { disabled: true },
      },
      series: [{
        type: "scatter",
        coordinateSystem: "geo",
        symbol: "pin",
        symbolSize: 30,
        itemStyle: { color: "#c0392b" },
        silent: true,
        data: point ? [point] : [],
      }],
    };
  }

  function redraw() {
    if (chart) chart.setOption(option(), true);
  }

  // The hidden inputs, the message and the page's district, from the point (or its absence).
  function setPoint(lng, lat, { how, recentre = false } = {}) {
    point = [round6(lng), round6(lat)];
    latInput.value = point[1].toFixed(6);
    lngInput.value = point[0].toFixed(6);
    latInput.disabled = lngInput.disabled = false;
    const feature = geojson ? featureAt(geojson, lng, lat) : null;
    const district = feature ? feature.properties.name : "";
    if (recentre || view.zoom === 1) {
      view = { center: point, zoom: view.zoom === 1 ? ZOOM_IN : view.zoom };
    }
    status.textContent = district
      ? fmt(how === "located" ? "place_located" : "place_chosen", { district, lat: point[1].toFixed(5), lng: point[0].toFixed(5) })
      : fmt("place_outside", { lat: point[1].toFixed(5), lng: point[0].toFixed(5) });
    status.classList.toggle("xn-failed", !district);
    clearButton.hidden = false;
    whole.hidden = view.zoom === 1;
    redraw();
    onDistrict(district);
  }

  function clear() {
    point = null;
    latInput.value = lngInput.value = "";
    // Disabled inputs are left out of the form's data: no location is sent, rather than "".
    latInput.disabled = lngInput.disabled = true;
    status.textContent = "";
    status.classList.remove("xn-failed");
    clearButton.hidden = true;
    redraw();
  }

  function showWholeCity() {
    view = { center: null, zoom: 1 };
    whole.hidden = true;
    redraw();
  }

  // 使用我的位置: one reading, at most a minute old; a refusal or a timeout says what to do.
  locate.addEventListener("click", () => {
    if (!navigator.geolocation) {
      status.textContent = t("place_unsupported");
      return;
    }
    status.textContent = t("place_locating");
    locate.disabled = true;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        locate.disabled = false;
        setPoint(position.coords.longitude, position.coords.latitude, { how: "located", recentre: true });
      },
      (error) => {
        locate.disabled = false;
        const reason = { 1: "place_denied", 3: "place_timeout" }[error.code] || "place_unavailable";
        status.textContent = t(reason);
        status.classList.add("xn-failed");
      },
      { enableHighAccuracy: true, timeout: GEO_TIMEOUT_MS, maximumAge: 60000 },
    );
  });
  clearButton.addEventListener("click", () => {
    clear();
    status.textContent = t("place_cleared");
    locate.focus();
  });
  whole.addEventListener("click", showWholeCity);

  // The keyboard's way to the map: arrows move the marker (from the map's centre when there is
  // none yet), Shift moves it ten times as far; each move picks the point as a click would.
  box.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (!chart || !(event.key in moves)) return;
    event.preventDefault();
    const step = KEY_STEP * (event.shiftKey ? 10 : 1);
    const [dx, dy] = moves[event.key];
    const start = point || chart.convertFromPixel({ geoIndex: 0 }, [box.clientWidth / 2, box.clientHeight / 2]);
    setPoint(start[0] + dx * step, start[1] + dy * step, { recentre: true });
  });

  async function start() {
    try {
      const [echarts, outlines] = await Promise.all([
        loadECharts(root.dataset.echarts),
        loadOutlines(root.dataset.geojson),
      ]);
      geojson = outlines;
      if (!echarts.getMap(MAP_NAME)) echarts.registerMap(MAP_NAME, outlines);
      box.hidden = false;
      chart = echarts.init(box, null, { renderer: "canvas" });
      redraw();
      // Never laid out at 0×0 (ECharts 6.1.0 throws then: see dashboard-common.js).
      window.addEventListener("resize", () => box.offsetWidth > 0 && box.offsetHeight > 0 && chart.resize());
      chart.getZr().on("click", (event) => {
        const pixel = [event.offsetX, event.offsetY];
        if (!chart.containPixel({ geoIndex: 0 }, pixel)) return;
        const [lng, lat] = chart.convertFromPixel({ geoIndex: 0 }, pixel);
        setPoint(lng, lat, { how: "chosen" });
      });
      root.dataset.ready = "true";
    } catch {
      // No map (the vendor files are missing or did not load): the location button and the
      // region selects still work, so say nothing more than the map's absence.
      box.hidden = true;
      help.textContent = t("place_no_map");
    }
  }

  latInput.disabled = lngInput.disabled = !latInput.value;
  start();
  return { clear };
}
