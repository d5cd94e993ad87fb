// Ponte admin page: the access tokens issued through the API. The issue form sends
// `POST /api/admin/tokens` and shows the new secret once, with a copy button; the page keeps
// no copy of it after "done" or signing out. The list (never a secret) comes from
// `GET /api/admin/tokens`; revoking asks once more, then sends `DELETE /api/admin/tokens/{id}`.

import { api, changed, data, reload, segment, splitList } from './admin-api.js';
import { t } from './admin-texts.js';
import { $, announce, askFirst, el, fillSelect, missing, submitting, timeOf } from './admin-ui.js';

const DAY_SECONDS = 24 * 60 * 60;
const EXPIRIES = [0, 1, 7, 30, 90, 365];

const ROLES = {
  requester: 'roleRequester',
  attendant: 'roleAttendant',
  analyst: 'roleAnalyst',
  knowledge_manager: 'roleKnowledgeManager',
  admin: 'roleAdmin',
};

/** The text of `key` with `node` where its argument goes (word order differs by language). */
function around(key, node) {
  const mark = '\u0000';
  const [before, after] = t(key, mark).split(mark);
  return [before, node, after];
}

function hideIssued() {
  $('issued-token').value = '';
  $('issued-note').textContent = '';
  $('issued-copy-status').textContent = '';
  $('issued').hidden = true;
}

function showIssued(issued) {
  $('issued-note').textContent = t('issuedOnce', issued.subject);
  $('issued-token').value = issued.token;
  $('issued-copy-status').textContent = '';
  $('issued').hidden = false;
  $('issued-heading').focus({ preventScroll: true });
  $('issued').scrollIntoView({ block: 'nearest' });
}

async function copyIssued() {
  const field = $('issued-token');
  const status = $('issued-copy-status');
  let done = false;
  try {
    await navigator.clipboard.writeText(field.value);
    done = true;
  } catch (_) {
    // Without the asynchronous clipboard (an insecure origin, a refused permission), the
    // selection is copied the old way.
    field.select();
    try {
      done = document.execCommand('copy');
    } catch (__) {
      done = false;
    }
  }
  status.textContent = done ? t('copied') : t('copyFailed');
  if (!done) {
    field.focus();
    field.select();
  }
}

async function issue(event) {
  event.preventDefault();
  const form = $('token-form');
  const subject = $('token-subject');
  hideIssued();
  await submitting(form, async () => {
    if (missing([subject])) return null;
    const days = Number($('token-expiry').value);
    const body = {
      role: $('token-role').value,
      subject: subject.value.trim(),
      groups: splitList($('token-groups').value),
    };
    if (days > 0) body.expires_in_seconds = days * DAY_SECONDS;
    const issued = await api('POST', '/api/admin/tokens', body);
    await reload('tokens');
    subject.value = '';
    $('token-groups').value = '';
    showIssued(issued);
    return t('tokenIssuedFor', issued.subject);
  }, {
    field: (error) => {
      if (error.code !== 'invalid_id') return null;
      return $('token-groups').value.trim() ? $('token-groups') : subject;
    },
  });
}

async function revoke(found) {
  try {
    await api('DELETE', `/api/admin/tokens/${segment(found.id)}`);
    await reload('tokens');
    announce(t('revoked', found.subject));
    $('tokens-list-heading').focus();
    return true;
  } catch (error) {
    announce(error.message, true);
    return false;
  }
}

function renderTokens() {
  $('tokens-list').replaceChildren(...data.tokens.map((found) => {
    const actions = el('div', { class: 'ad-item-actions' });
    actions.append(el('button', {
      type: 'button',
      class: 'secondary',
      text: t('revoke'),
      'aria-label': t('revokeOf', found.subject),
      onclick: () => askFirst(actions, t('revokeAsk', found.subject), t('revokeNow'), () => revoke(found)),
    }));
    const when = el('p', { class: 'ad-item-meta' }, ...around('tokenIssuedAt', timeOf(found.created_at)), ', ');
    if (found.expires_at) when.append(...around('tokenExpiresAt', timeOf(found.expires_at)));
    else when.append(t('tokenNoExpiry'));
    return el('li', { class: 'ad-item', dataset: { tokenId: found.id } },
      el('div', { class: 'ad-item-main' },
        el('p', { class: 'ad-item-title' },
          el('span', { class: 'ad-strong', text: found.subject }), ' ',
          el('span', { class: 'ad-badge', text: t(ROLES[found.role] || found.role) }), ' ',
          el('span', {
            class: found.expired ? 'ad-state ad-state-off' : 'ad-state ad-state-on',
            text: found.expired ? t('tokenExpired') : t('tokenActive'),
          })),
        found.groups.length ? el('p', { class: 'ad-item-meta', text: t('metaGroups', found.groups.join(', ')) }) : null,
        when,
        el('p', { class: 'ad-item-meta ad-mono ad-muted', text: found.id })),
      actions);
  }));
  $('tokens-empty').hidden = data.tokens.length > 0;
}

export function init() {
  fillSelect($('token-expiry'), EXPIRIES.map((days) => [String(days), days ? t('expDays', days) : t('expNever')]), '90');
  $('token-form').addEventListener('submit', issue);
  $('issued-copy').addEventListener('click', copyIssued);
  $('issued-done').addEventListener('click', () => {
    hideIssued();
    $('token-subject').focus();
  });
  changed.addEventListener('change', (event) => {
    if (event.detail === 'tokens') renderTokens();
  });
}

export function reset() {
  hideIssued();
}
