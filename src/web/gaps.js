// Ponte knowledge-gaps page: for knowledge managers and administrators, the questions the
// assistant could not place well in a period, clustered by topic per language, largest
// first (gaps-list.js), with what a manager does with each (gaps-actions.js). This module
// wires the page: it loads the period picked, fills the filters and downloads the CSV.
// reports-base.js holds what the reports and knowledge-gaps pages share.

import { LANGS } from './staff-lang.js';
import { periodQuery } from './staff-period.js';
import { api, downloadCsv, make, start } from './reports-base.js';
import { activities, el, LANGUAGE_NAMES, say, state } from './gaps-base.js';
import { render } from './gaps-list.js';
import { t } from './gaps-texts.js';

async function load() {
  const report = await api('GET', `/api/reports/gaps?${periodQuery()}`);
  report.clusters = (report.clusters || []).map((cluster) => Object.assign({ examples: [] }, cluster));
  state.report = report;
  say('');
  // Names for the activities that tickets went to; the list works without them.
  if (report.clusters.some((cluster) => Object.keys(cluster.tickets || {}).length)) {
    await activities().catch(() => null);
  }
  render();
}

function reset() {
  state.report = null;
  state.activities = null;
  el.list.replaceChildren();
  el.summary.textContent = '';
  say('');
}

el.language.replaceChildren(make('option', '', t('allLanguages')), ...LANGS.map((lang) => {
  const option = make('option', '', LANGUAGE_NAMES[lang]);
  option.value = lang;
  return option;
}));
el.language.firstChild.value = '';
el.language.addEventListener('change', render);
el.showDismissed.addEventListener('change', render);
el.csv.addEventListener('click', () => downloadCsv(
  `/api/reports/gaps?${periodQuery({ format: 'csv' })}`, 'ponte-gaps.csv', el.csvStatus));

start({ t, titleKey: 'brandGaps', load, reset });
