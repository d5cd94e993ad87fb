// Ponte reports page: the drill-down. A count in the summary or a table is a button that
// lists the conversations behind it (ids and figures, never texts) in a panel opened below
// it (#drill), with the list's CSV; closing it goes back to the count.

import { periodQuery } from './staff-period.js';
import { api, downloadCsv, make, session } from './reports-base.js';
import { fmt } from './reports-format.js';
import { label, reasonLabel, t } from './reports-texts.js';

const $ = (id) => document.getElementById(id);
const el = {
  totals: $('totals'),
  drill: $('drill'),
  drillHeading: $('drill-heading'),
  drillNote: $('drill-note'),
  drillRows: $('drill-rows'),
  drillScroll: $('drill-scroll'),
  drillCsv: $('drill-csv'),
  drillCsvStatus: $('drill-csv-status'),
  drillClose: $('drill-close'),
};

// Rows of the drill-down shown in the page (the CSV has them all).
const DRILL_ROWS = 200;

const state = { drill: null, drillFrom: null };

// A count: a button listing its conversations when there are any.
export function count(value, outcome, filter) {
  if (!value) return make('span', 'rp-zero', fmt.int(value));
  const button = make('button', 'rp-drill', fmt.int(value));
  button.type = 'button';
  const where = filter ? `${filter.heading}: ${filter.shown}` : '';
  button.setAttribute('aria-label', t('drillButton', fmt.int(value), t(`outcome_${outcome || 'all'}`), where));
  button.addEventListener('click', () => drill(outcome, filter, button));
  return button;
}

function outcomeOf(row) {
  const parts = [];
  if (row.contained) parts.push(t('outcome_contained'));
  if (row.handoff) parts.push(t('outcome_handoff'));
  if (row.lost) parts.push(t('outcome_lost'));
  if (row.ticket) parts.push(t('outcome_ticket'));
  if (row.transfers) parts.push(`${t('outcome_transferred')} (${row.transfers})`);
  return parts.join(' · ') || t('none');
}

function drillQuery(extra) {
  const { outcome, filter } = state.drill;
  const params = {};
  if (outcome) params.outcome = outcome;
  if (filter) params[filter.param] = filter.key;
  return periodQuery(Object.assign(params, extra || {}));
}

async function drill(outcome, filter, from) {
  state.drill = { outcome, filter };
  state.drillFrom = from;
  const what = t(`outcome_${outcome || 'all'}`);
  el.drillHeading.textContent = t('drillHeading', what, filter ? `${filter.heading}: ${filter.shown}` : '');
  el.drillScroll.setAttribute('aria-label', t('scrollHint', el.drillHeading.textContent));
  el.drillNote.textContent = t('loading');
  el.drillRows.replaceChildren();
  el.drillCsvStatus.textContent = '';
  // The list opens below the summary or table it came from.
  const section = from.closest('section');
  if (section) section.after(el.drill);
  el.drill.hidden = false;
  el.drillHeading.focus();
  const asked = state.drill;
  try {
    const data = await api('GET', `/api/reports/desk/conversations?${drillQuery()}`);
    if (state.drill !== asked) return;
    const rows = (data && data.conversations) || [];
    el.drillRows.replaceChildren(...rows.slice(0, DRILL_ROWS).map((row) => {
      const tr = make('tr');
      const id = make('th');
      id.scope = 'row';
      id.append(make('code', '', row.id));
      tr.append(id);
      const cells = [
        fmt.dateTime(row.opened_at), row.channel ? label(row.channel) : t('none'), row.language || t('none'),
        row.group || t('none'), row.attendant || t('none'), outcomeOf(row), fmt.duration(row.queue_ms),
        fmt.duration(row.first_response_ms), row.close_reason ? reasonLabel(row.close_reason) : t('none'),
        row.rating == null ? t('none') : String(row.rating),
      ];
      // The outcome (several words) wraps; the figures stay on one line.
      cells.forEach((text, index) => tr.append(make('td', index === 5 ? 'rp-wrap' : '', text)));
      return tr;
    }));
    const note = [t('drillCount', rows.length), t('drillHint')];
    if (rows.length > DRILL_ROWS) note.push(t('drillMore', DRILL_ROWS, rows.length));
    el.drillNote.textContent = note.join(' ');
  } catch (error) {
    if (session.lost(error)) return;
    el.drillNote.textContent = `${t('drillFailed')} ${error.message}`;
  }
}

// Closes the list and puts it back below the summary, out of the tables about to be
// rebuilt.
export function closeDrill() {
  state.drill = null;
  el.drill.hidden = true;
  el.drillRows.replaceChildren();
  el.totals.closest('section').after(el.drill);
}

// Back to the count the list came from.
el.drillClose.addEventListener('click', () => {
  const from = state.drillFrom;
  el.drill.hidden = true;
  state.drill = null;
  if (from && from.isConnected) from.focus();
});
el.drillCsv.addEventListener('click', () => {
  if (!state.drill) return;
  downloadCsv(`/api/reports/desk/conversations?${drillQuery({ format: 'csv' })}`,
    'ponte-conversations.csv', el.drillCsvStatus);
});
