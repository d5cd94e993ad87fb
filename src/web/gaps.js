// Ponte knowledge-gaps page: for knowledge managers and administrators, the questions the
// assistant could not place well in a period, clustered by topic per language, largest
// first, with count, trend, reasons, examples and what followed; and per topic the actions
// Dismiss / Restore, add its texts as examples of an activity, and draft an article (the
// draft opens in the knowledge page's editor, handed over through sessionStorage).
// reports-texts.js, gaps-texts.js and reports-base.js, loaded before it, hold the texts and
// the shared plumbing.
'use strict';

(() => {
  const I = window.PonteInsight;
  const { $, t, fmt, api, bounds, periodQuery, downloadCsv, handleAuthLoss, LANGS } = I;

  // What the knowledge page opens as a new article (see knowledge.js).
  const DRAFT_KEY = 'ponte.knowledge.draft';
  const LANGUAGE_NAMES = { 'pt-BR': 'Português (Brasil)', es: 'Español', en: 'English' };

  const el = {
    language: $('gaps-language'),
    showDismissed: $('gaps-show-dismissed'),
    csv: $('gaps-csv'),
    csvStatus: $('gaps-csv-status'),
    summary: $('gaps-summary'),
    message: $('gaps-message'),
    list: $('gaps'),
  };

  const state = { report: null, activities: null };

  function make(tag, className, text) {
    const created = document.createElement(tag);
    if (className) created.className = className;
    if (text !== undefined) created.textContent = text;
    return created;
  }

  function button(text, className, onClick) {
    const created = make('button', `rp-button ${className || ''}`.trim(), text);
    created.type = 'button';
    created.addEventListener('click', onClick);
    return created;
  }

  function say(text, isError) {
    el.message.textContent = text || '';
    el.message.classList.toggle('rp-error', Boolean(isError));
  }

  // What names a topic for people: its first example, else its words.
  const nameOf = (cluster) => cluster.examples[0] || cluster.label || cluster.key;

  const actionBody = (extra) => Object.assign(bounds(), extra || {});
  const actionPath = (cluster, action) => `/api/reports/gaps/${encodeURIComponent(cluster.key)}/${action}`;

  // ---------------------------------------------------------------- a topic

  function fact(term, ...values) {
    const wrap = make('div');
    const dd = make('dd');
    dd.append(...values);
    wrap.append(make('dt', '', term), dd);
    return wrap;
  }

  function trendText(cluster) {
    const { first_half: a, second_half: b } = cluster;
    if (b > a) return `↑ ${t('trendUp', a, b)}`;
    if (b < a) return `↓ ${t('trendDown', a, b)}`;
    return `→ ${t('trendFlat', a, b)}`;
  }

  function followedText(cluster) {
    const parts = [];
    const tickets = Object.entries(cluster.tickets || {});
    if (tickets.length) parts.push(`${t('followedTickets')}: ${tickets.map(([id, n]) => `${activityName(id, cluster.language)} (${n})`).join(', ')}`);
    const handoffs = Object.entries(cluster.handoffs || {});
    if (handoffs.length) parts.push(`${t('followedHandoffs')}: ${handoffs.map(([group, n]) => `${group || t('noGroup')} (${n})`).join(', ')}`);
    const sent = Object.entries(cluster.articles_sent || {});
    if (sent.length) parts.push(`${t('followedArticles')}: ${sent.map(([id, n]) => `${id} (${n})`).join(', ')}`);
    if (cluster.unresolved) parts.push(t('followedNeither', cluster.unresolved));
    return parts.join(' · ') || t('none');
  }

  function topic(cluster, rank, examplesShown) {
    const id = `gap-${rank}`;
    const item = make('li', 'gp-topic');
    item.dataset.key = cluster.key;
    if (cluster.dismissed) item.classList.add('gp-dismissed');
    const card = make('article', 'rp-card');
    card.setAttribute('aria-labelledby', `${id}-name`);

    const head = make('div', 'gp-head');
    const heading = make('h3', 'gp-name');
    heading.id = `${id}-name`;
    heading.append(make('span', 'gp-rank', `#${rank} `));
    const name = make('span', '', nameOf(cluster));
    if (LANGS.includes(cluster.language)) name.lang = cluster.language;
    heading.append(name);
    const badge = make('span', 'gp-badge', LANGUAGE_NAMES[cluster.language] || cluster.language);
    if (LANGS.includes(cluster.language)) badge.lang = cluster.language;
    head.append(heading, badge);
    if (cluster.dismissed) head.append(make('span', 'gp-badge gp-badge-dismissed', t('dismissedBadge')));

    const facts = make('dl', 'gp-facts');
    facts.append(
      fact(t('count'), make('strong', 'gp-count', fmt.int(cluster.count))),
      fact(t('trend'), trendText(cluster)),
      fact(t('why'), Object.entries(cluster.reasons || {}).map(([reason, n]) => `${t(`reason_${reason}`) || reason}: ${n}`).join(' · ')),
      fact(t('followed'), followedText(cluster)),
      fact(t('words'), cluster.label || t('none')),
    );
    if (examplesShown && cluster.examples.length) {
      const list = make('ul', 'gp-examples');
      if (LANGS.includes(cluster.language)) list.lang = cluster.language;
      list.append(...cluster.examples.map((text) => make('li', '', text)));
      facts.append(fact(t('examples'), list));
    }

    const result = make('p', 'gp-result');
    result.setAttribute('role', 'status');
    const form = examplesForm(cluster, id, result);
    const actions = make('div', 'gp-actions');
    actions.setAttribute('role', 'group');
    actions.setAttribute('aria-label', t('actionsFor', nameOf(cluster)));
    const opener = button(t('addExamples'), '', () => openForm(form, opener));
    opener.setAttribute('aria-expanded', 'false');
    opener.setAttribute('aria-controls', form.id);
    opener.dataset.action = 'examples';
    const drafter = button(t('draft'), '', () => draft(cluster, drafter, result));
    drafter.dataset.action = 'draft';
    const toggle = cluster.dismissed
      ? button(t('restore'), 'rp-button-quiet', () => dismiss(cluster, false, toggle, result))
      : button(t('dismiss'), 'rp-button-quiet', () => dismiss(cluster, true, toggle, result));
    toggle.dataset.action = cluster.dismissed ? 'restore' : 'dismiss';
    actions.append(opener, drafter, toggle);

    card.append(head, facts, actions, form, result);
    item.append(card);
    return item;
  }

  // ---------------------------------------------------------------- actions

  function activityName(id, language) {
    const found = (state.activities || []).find((activity) => activity.id === id);
    const names = (found && found.name) || {};
    return names[language] || names[I.UI_LANG] || names['pt-BR'] || names.es || names.en || id;
  }

  async function activities() {
    if (!state.activities) {
      const data = await api('GET', '/api/activities');
      state.activities = ((data && data.activities) || []).slice()
        .sort((a, b) => String(a.id).localeCompare(String(b.id)));
    }
    return state.activities;
  }

  function examplesForm(cluster, id, result) {
    const form = make('form', 'gp-form');
    form.id = `${id}-form`;
    form.hidden = true;
    form.noValidate = true;
    const field = make('div', 'rp-field');
    const labelNode = make('label', '', t('activity'));
    labelNode.htmlFor = `${id}-activity`;
    const select = make('select');
    select.id = `${id}-activity`;
    field.append(labelNode, select);
    const submit = make('button', 'rp-button', t('addConfirm'));
    submit.type = 'submit';
    const cancel = button(t('cancel'), 'rp-button-quiet', () => closeForm(form));
    form.append(field, submit, cancel);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!select.value) { result.textContent = t('needActivity'); select.focus(); return; }
      submit.disabled = true;
      try {
        const data = await api('POST', actionPath(cluster, 'examples'), actionBody({ activity_id: select.value }));
        const name = activityName(select.value, cluster.language);
        const added = (data && data.added) || [];
        result.classList.remove('rp-error');
        result.textContent = added.length ? t('addedOk', added.length, name) : t('addedNone', name);
        closeForm(form);
      } catch (error) {
        if (handleAuthLoss(error)) return;
        result.classList.add('rp-error');
        result.textContent = error.message;
      } finally {
        submit.disabled = false;
      }
    });
    form.addEventListener('keydown', (event) => { if (event.key === 'Escape') closeForm(form); });
    form.cluster = cluster;
    return form;
  }

  async function openForm(form, opener) {
    const select = form.querySelector('select');
    const result = form.nextElementSibling;
    try {
      const found = await activities();
      if (!found.length) { result.textContent = t('noActivities'); return; }
      const first = make('option', '', t('chooseActivity'));
      first.value = '';
      select.replaceChildren(first, ...found.map((activity) => {
        const option = make('option', '', `${activityName(activity.id, form.cluster.language)} (${activity.id})`);
        option.value = activity.id;
        return option;
      }));
    } catch (error) {
      if (handleAuthLoss(error)) return;
      result.classList.add('rp-error');
      result.textContent = error.message;
      return;
    }
    form.hidden = false;
    opener.setAttribute('aria-expanded', 'true');
    select.focus();
  }

  function closeForm(form) {
    form.hidden = true;
    const opener = form.closest('article').querySelector('[data-action="examples"]');
    opener.setAttribute('aria-expanded', 'false');
    opener.focus();
  }

  async function dismiss(cluster, dismissed, control, result) {
    control.disabled = true;
    try {
      await api(dismissed ? 'POST' : 'DELETE', actionPath(cluster, 'dismiss'));
      cluster.dismissed = dismissed;
      // The next topic takes the focus when this one leaves the list.
      const item = control.closest('li');
      const next = item.nextElementSibling || item.previousElementSibling;
      const nextKey = next ? next.dataset.key : null;
      render();
      say(dismissed ? t('dismissedOk', nameOf(cluster)) : t('restoredOk', nameOf(cluster)));
      const same = el.list.querySelector(`li[data-key="${CSS.escape(cluster.key)}"] [data-action="${dismissed ? 'restore' : 'dismiss'}"]`);
      const after = nextKey && el.list.querySelector(`li[data-key="${CSS.escape(nextKey)}"] [data-action="dismiss"], li[data-key="${CSS.escape(nextKey)}"] [data-action="restore"]`);
      (same || after || el.showDismissed).focus();
    } catch (error) {
      control.disabled = false;
      if (handleAuthLoss(error)) return;
      result.classList.add('rp-error');
      result.textContent = error.message;
    }
  }

  async function draft(cluster, control, result) {
    control.disabled = true;
    control.textContent = t('working');
    try {
      const data = await api('POST', actionPath(cluster, 'draft'), actionBody());
      sessionStorage.setItem(DRAFT_KEY, JSON.stringify({
        language: data.language, title: data.title, body: data.body,
      }));
      window.location.assign('/knowledge');
    } catch (error) {
      control.disabled = false;
      control.textContent = t('draft');
      if (handleAuthLoss(error)) return;
      result.classList.add('rp-error');
      result.textContent = error.message;
    }
  }

  // ---------------------------------------------------------------- the list

  function render() {
    const report = state.report;
    if (!report) return;
    const language = el.language.value;
    const all = report.clusters.filter((cluster) => !language || cluster.language === language);
    const shown = all.filter((cluster) => el.showDismissed.checked || !cluster.dismissed);
    const hidden = all.length - shown.length;
    const texts = all.reduce((sum, cluster) => sum + cluster.count, 0);
    let summary = report.clusters.length ? t('gapsSummary', texts, all.length) : t('gapsEmpty');
    if (hidden) summary += t('gapsHiddenN', hidden);
    if (report.clusters.length && !shown.length) summary += ` ${t('gapsNoneShown')}`;
    if (!report.examples) summary += ` ${t('examplesHidden')}`;
    el.summary.textContent = summary;
    el.list.replaceChildren(...shown.map((cluster, index) => topic(cluster, index + 1, report.examples)));
  }

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

  I.start({ titleKey: 'brandGaps', load, reset });
})();
