// Writes dashboards/grafana/*.json from dashboards.ts: `npm run dashboards`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDashboards, renderDashboard } from './dashboards.js';

export const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dashboards/grafana');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const d of buildDashboards()) {
    fs.writeFileSync(path.join(DASHBOARD_DIR, d.file), renderDashboard(d));
    console.log(`wrote ${path.join(DASHBOARD_DIR, d.file)}`);
  }
}
