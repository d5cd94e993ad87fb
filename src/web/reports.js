// Ponte reports page: the desk report of a period for administrators and knowledge
// managers. This module wires the page: it loads the report of the period picked and shows
// the summary and the tables (reports-tables.js), the charts over time (reports-charts.js)
// and the articles' table; a count lists its conversations (reports-drill.js). The reasons
// are named by the desk's labels (GET /api/desk/config) where the reader may read them.
// reports-base.js holds what the reports and knowledge-gaps pages share.

import { periodQuery } from './staff-period.js';
import { api, start } from './reports-base.js';
import { deskCharts } from './reports-charts.js';
import { closeDrill } from './reports-drill.js';
import { renderArticles, renderTables, renderTotals } from './reports-tables.js';
import { setReasonLabels, t } from './reports-texts.js';

const $ = (id) => document.getElementById(id);
const el = { totals: $('totals'), charts: $('charts'), tables: $('tables') };

// Whether the reader may read the desk's configuration (administrators may, knowledge
// managers may not): the reasons' labels come from it.
let configReadable = true;

// The reasons' labels the desk has; without them (a knowledge manager's 403, or a failure)
// the built-in names stand: no label is worth failing the report for.
async function loadReasonLabels() {
  if (!configReadable) return;
  try {
    const config = await api('GET', '/api/desk/config');
    setReasonLabels(config && config.reason_labels);
  } catch (error) {
    if (error.status === 403) configReadable = false;
  }
}

async function load() {
  const [report] = await Promise.all([
    api('GET', `/api/reports/desk?${periodQuery()}`),
    loadReasonLabels(),
  ]);
  // The listing belonged to the previous period.
  closeDrill();
  renderTotals(report.totals || {});
  el.charts.replaceChildren(...deskCharts(report.by_day || []));
  renderTables(report);
  renderArticles(await api('GET', `/api/reports/articles?${periodQuery()}`));
}

function reset() {
  configReadable = true;
  setReasonLabels({});
  closeDrill();
  el.totals.replaceChildren();
  el.charts.replaceChildren();
  el.tables.replaceChildren();
}

start({ t, titleKey: 'brandReports', load, reset });
