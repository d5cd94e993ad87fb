// Ponte reports page: the summary (#totals) and the tables (#tables). A table per day,
// channel, service group, project and attendant, the close reasons, the attendants' time
// online and paused, and the articles' effectiveness, each with its CSV; their counts list
// the conversations behind them (reports-drill.js).

import { periodQuery } from './staff-period.js';
import { downloadCsv, make } from './reports-base.js';
import { count } from './reports-drill.js';
import { fmt } from './reports-format.js';
import { label, reasonLabel, t } from './reports-texts.js';

const el = {
  totals: document.getElementById('totals'),
  tables: document.getElementById('tables'),
};

const DIMENSIONS = [
  {
    table: 'days', field: 'by_day', param: 'day', title: 'tableDays', column: 'colDay',
    show: (key) => fmt.day(key, { weekday: 'short', day: 'numeric', month: 'short' }),
  },
  { table: 'channels', field: 'by_channel', param: 'channel', title: 'tableChannels', column: 'colChannel', show: label },
  { table: 'groups', field: 'by_group', param: 'group', title: 'tableGroups', column: 'colGroup', show: (key) => key },
  { table: 'projects', field: 'by_project', param: 'project', title: 'tableProjects', column: 'colProject', show: (key) => key },
  { table: 'attendants', field: 'by_attendant', param: 'attendant', title: 'tableAttendants', column: 'colAttendant', show: (key) => key },
];

const waits = (p50, p90) => (row) => `${fmt.duration(row[p50])} / ${fmt.duration(row[p90])}`;

// The figure columns of a dimension's table: a count that drills down to its
// conversations (`outcome`), or a text.
const COLUMNS = [
  { head: 'conversations', count: 'conversations', outcome: '' },
  {
    head: 'contained', count: 'contained', outcome: 'contained',
    after: (row) => (row.conversations ? fmt.percent(row.containment) : ''),
  },
  { head: 'handoffs', count: 'handoffs', outcome: 'handoff' },
  { head: 'lost', count: 'lost', outcome: 'lost' },
  { head: 'tickets', count: 'tickets', outcome: 'ticket' },
  { head: 'transfers', count: 'transfers', outcome: 'transferred' },
  { head: 'queueWait', text: waits('queue_p50_ms', 'queue_p90_ms') },
  { head: 'firstResponse', text: waits('first_response_p50_ms', 'first_response_p90_ms') },
  { head: 'handling', text: waits('handling_p50_ms', 'handling_p90_ms') },
  { head: 'satisfaction', count: 'ratings', outcome: 'rated', rating: true },
];

// "<n> ratings", the count a button listing them.
function rated(counted, n) {
  const line = make('span', 'rp-note');
  line.append(counted, document.createTextNode(` ${t('ratingsWord', n)}`));
  return line;
}

// ---------------------------------------------------------------- summary

export function renderTotals(totals) {
  const items = [
    [t('conversations'), count(totals.conversations, '', null)],
    [t('contained'), count(totals.contained, 'contained', null), t('ofTotal', fmt.percent(totals.containment))],
    [t('handoffs'), count(totals.handoffs, 'handoff', null), t('ofTotal', fmt.percent(totals.handoff_rate))],
    [t('lost'), count(totals.lost, 'lost', null)],
    [t('tickets'), count(totals.tickets, 'ticket', null)],
    [t('queueWait'), make('span', 'rp-figure rp-figure-wait', waits('queue_p50_ms', 'queue_p90_ms')(totals))],
    [t('firstResponse'), make('span', 'rp-figure rp-figure-wait', waits('first_response_p50_ms', 'first_response_p90_ms')(totals))],
    [t('handling'), make('span', 'rp-figure rp-figure-wait', waits('handling_p50_ms', 'handling_p90_ms')(totals))],
    [t('satisfaction'), make('span', 'rp-figure', fmt.rating(totals.satisfaction)), null,
      rated(count(totals.ratings, 'rated', null), totals.ratings)],
  ];
  el.totals.replaceChildren(...items.map(([term, value, note, rated]) => {
    const wrap = make('div', 'rp-total');
    const dd = make('dd');
    dd.append(value);
    if (note) dd.append(make('span', 'rp-note', note));
    if (rated) dd.append(rated);
    wrap.append(make('dt', '', term), dd);
    return wrap;
  }));
}

// ---------------------------------------------------------------- tables

function tableCard(name, titleKey, headers, rows,
  csvPath = `/api/reports/desk?${periodQuery({ format: 'csv', table: name })}`) {
  const section = make('section', 'rp-card rp-table-card');
  section.dataset.csvTable = name;
  const headingId = `table-${name}`;
  section.setAttribute('aria-labelledby', headingId);
  const head = make('div', 'rp-table-head');
  const heading = make('h3', '', t(titleKey));
  heading.id = headingId;
  const button = make('button', 'rp-button', t('downloadCsv'));
  button.type = 'button';
  button.setAttribute('aria-label', t('downloadCsvOf', t(titleKey)));
  const status = make('p', 'rp-csv-status');
  status.setAttribute('role', 'status');
  button.addEventListener('click', () => downloadCsv(csvPath, `ponte-desk-${name}.csv`, status));
  head.append(heading, button);
  section.append(head, status);
  if (!rows.length) {
    section.append(make('p', 'rp-hint', t('emptyTable')));
    return section;
  }
  const scroll = make('div', 'rp-scroll');
  scroll.tabIndex = 0;
  scroll.setAttribute('role', 'region');
  scroll.setAttribute('aria-label', t('scrollHint', t(titleKey)));
  const table = make('table', 'rp-table');
  table.setAttribute('aria-labelledby', headingId);
  const thead = make('thead');
  const headRow = make('tr');
  for (const text of headers) {
    const th = make('th', '', text);
    th.scope = 'col';
    headRow.append(th);
  }
  thead.append(headRow);
  const tbody = make('tbody');
  for (const cells of rows) {
    const tr = make('tr');
    cells.forEach((cell, index) => {
      const td = make(index ? 'td' : 'th');
      if (!index) td.scope = 'row';
      td.append(...(Array.isArray(cell) ? cell : [cell]));
      tr.append(td);
    });
    tbody.append(tr);
  }
  table.append(thead, tbody);
  scroll.append(table);
  section.append(scroll);
  return section;
}

function dimensionTable(dimension, rows) {
  const headers = [t(dimension.column), ...COLUMNS.map((column) => t(column.head))];
  const body = rows.map((row) => {
    const shown = dimension.show(row.key);
    const filter = { param: dimension.param, key: row.key, heading: t(dimension.column), shown };
    return [shown, ...COLUMNS.map((column) => {
      if (column.text) return column.text(row);
      const counted = count(row[column.count], column.outcome, filter);
      if (column.rating) {
        if (!row.ratings) return t('none');
        return [make('span', 'rp-figure-small', fmt.rating(row.satisfaction)), rated(counted, row.ratings)];
      }
      const after = column.after && column.after(row);
      return after ? [counted, make('span', 'rp-note', after)] : [counted];
    })];
  });
  return tableCard(dimension.table, dimension.title, headers, body);
}

export function renderTables(report) {
  const cards = DIMENSIONS.map((dimension) => dimensionTable(dimension, report[dimension.field] || []));
  const reasons = Object.entries(report.close_reasons || {}).map(([reason, n]) => [reasonLabel(reason), fmt.int(n)]);
  cards.push(tableCard('close_reasons', 'tableReasons', [t('colReason'), t('conversations')], reasons));
  const presence = (report.attendants_time || []).map((time) => [
    time.attendant,
    fmt.duration(time.online_ms),
    fmt.duration(time.paused_ms),
    Object.entries(time.paused_by_reason || {})
      .map(([reason, ms]) => `${reasonLabel(reason) || t('none')}: ${fmt.duration(ms)}`).join(' · ') || t('none'),
  ]);
  cards.push(tableCard('presence', 'tablePresence',
    [t('colAttendant'), t('colOnline'), t('colPaused'), t('colPausedBy')], presence));
  el.tables.replaceChildren(...cards);
}

/** The articles' effectiveness: shown, opened, viewed, and what followed them. */
export function renderArticles(report) {
  const rows = (report.articles || []).map((a) => [
    a.title || a.article_id,
    fmt.int(a.shown), fmt.int(a.opened), fmt.int(a.viewed),
    fmt.int(a.followed_by_ticket), fmt.int(a.followed_by_handoff), fmt.percent(a.settled),
  ]);
  el.tables.append(tableCard('articles', 'tableArticles',
    [t('colArticle'), t('colShown'), t('colOpened'), t('colViewed'),
      t('colThenTicket'), t('colThenPerson'), t('colSettled')],
    rows, `/api/reports/articles?${periodQuery({ format: 'csv' })}`));
}
