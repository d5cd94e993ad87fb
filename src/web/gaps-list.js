// Ponte knowledge-gaps page: the list of topics (#gaps), largest first, as the language and
// "show dismissed" filters let through, with the summary line above it. Each topic is a
// card with its count, trend, reasons, what followed, its words and examples, and its
// actions (gaps-actions.js).

import { LANGS } from './staff-lang.js';
import { fmt } from './reports-format.js';
import { dismiss, draft, examplesForm, openForm } from './gaps-actions.js';
import { activityName, button, el, LANGUAGE_NAMES, nameOf, state } from './gaps-base.js';
import { make } from './reports-base.js';
import { t } from './gaps-texts.js';

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
    ? button(t('restore'), 'rp-button-quiet', () => dismiss(cluster, false, toggle, result, render))
    : button(t('dismiss'), 'rp-button-quiet', () => dismiss(cluster, true, toggle, result, render));
  toggle.dataset.action = cluster.dismissed ? 'restore' : 'dismiss';
  actions.append(opener, drafter, toggle);

  card.append(head, facts, actions, form, result);
  item.append(card);
  return item;
}

export function render() {
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
