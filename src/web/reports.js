// Ponte reports page: the desk report of a period for administrators and knowledge
// managers. The summary, the charts over time (reports-charts.js), a table per day,
// channel, service group, project and attendant, the close reasons and the attendants'
// time online and paused, each with its CSV; a count in the summary or a table lists the
// conversations behind it (ids and figures, never texts). reports-texts.js and
// reports-base.js, loaded before this file, hold the texts and the shared plumbing.
'use strict';

(() => {
  const I = window.PonteInsight;
  const { $, t, fmt, api, label, periodQuery, downloadCsv, handleAuthLoss } = I;

  const el = {
    totals: $('totals'),
    charts: $('charts'),
    tables: $('tables'),
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

  const state = { report: null, drill: null, drillFrom: null };

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

  function make(tag, className, text) {
    const created = document.createElement(tag);
    if (className) created.className = className;
    if (text !== undefined) created.textContent = text;
    return created;
  }

  // A count: a button listing its conversations when there are any.
  function count(value, outcome, filter) {
    if (!value) return make('span', 'rp-zero', fmt.int(value));
    const button = make('button', 'rp-drill', fmt.int(value));
    button.type = 'button';
    const where = filter ? `${filter.heading}: ${filter.shown}` : '';
    button.setAttribute('aria-label', t('drillButton', fmt.int(value), t(`outcome_${outcome || 'all'}`), where));
    button.addEventListener('click', () => drill(outcome, filter, button));
    return button;
  }

  // "<n> ratings", the count a button listing them.
  function rated(counted, n) {
    const line = make('span', 'rp-note');
    line.append(counted, document.createTextNode(` ${t('ratingsWord', n)}`));
    return line;
  }

  // ---------------------------------------------------------------- summary

  function renderTotals(totals) {
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

  function renderTables(report) {
    const cards = DIMENSIONS.map((dimension) => dimensionTable(dimension, report[dimension.field] || []));
    const reasons = Object.entries(report.close_reasons || {}).map(([reason, n]) => [label(reason), fmt.int(n)]);
    cards.push(tableCard('close_reasons', 'tableReasons', [t('colReason'), t('conversations')], reasons));
    const presence = (report.attendants_time || []).map((time) => [
      time.attendant,
      fmt.duration(time.online_ms),
      fmt.duration(time.paused_ms),
      Object.entries(time.paused_by_reason || {})
        .map(([reason, ms]) => `${label(reason) || t('none')}: ${fmt.duration(ms)}`).join(' · ') || t('none'),
    ]);
    cards.push(tableCard('presence', 'tablePresence',
      [t('colAttendant'), t('colOnline'), t('colPaused'), t('colPausedBy')], presence));
    el.tables.replaceChildren(...cards);
  }

  /** The articles' effectiveness: shown, opened, viewed, and what followed them. */
  function renderArticles(report) {
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

  // ---------------------------------------------------------------- drill-down

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
          fmt.duration(row.first_response_ms), row.close_reason ? label(row.close_reason) : t('none'),
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
      if (handleAuthLoss(error)) return;
      el.drillNote.textContent = `${t('drillFailed')} ${error.message}`;
    }
  }

  // Closes the list and puts it back below the summary, out of the tables about to be
  // rebuilt.
  function closeDrill() {
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

  // ---------------------------------------------------------------- page

  async function load() {
    const report = await api('GET', `/api/reports/desk?${periodQuery()}`);
    state.report = report;
    // The listing belonged to the previous period.
    closeDrill();
    renderTotals(report.totals || {});
    el.charts.replaceChildren(...I.deskCharts(report.by_day || []));
    renderTables(report);
    renderArticles(await api('GET', `/api/reports/articles?${periodQuery()}`));
  }

  function reset() {
    state.report = null;
    closeDrill();
    el.totals.replaceChildren();
    el.charts.replaceChildren();
    el.tables.replaceChildren();
  }

  I.start({ titleKey: 'brandReports', load, reset });
})();
