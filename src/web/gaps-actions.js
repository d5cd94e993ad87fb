// Ponte knowledge-gaps page: what a manager does with a topic. Dismiss or restore it, add
// its texts as examples of an activity (a small form under the topic), or draft an article
// from it: the draft opens in the knowledge page's editor, handed over through
// sessionStorage.

import { bounds } from './staff-period.js';
import { api, make, session } from './reports-base.js';
import { activities, activityName, button, el, nameOf, say } from './gaps-base.js';
import { t } from './gaps-texts.js';

// What the knowledge page opens as a new article (see knowledge.js).
const DRAFT_KEY = 'ponte.knowledge.draft';

const actionBody = (extra) => Object.assign(bounds(), extra || {});
const actionPath = (cluster, action) => `/api/reports/gaps/${encodeURIComponent(cluster.key)}/${action}`;

export function examplesForm(cluster, id, result) {
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
      if (session.lost(error)) return;
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

export async function openForm(form, opener) {
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
    if (session.lost(error)) return;
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

// `render` draws the list again, without the topic dismissed (unless dismissed ones show).
export async function dismiss(cluster, dismissed, control, result, render) {
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
    if (session.lost(error)) return;
    result.classList.add('rp-error');
    result.textContent = error.message;
  }
}

export async function draft(cluster, control, result) {
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
    if (session.lost(error)) return;
    result.classList.add('rp-error');
    result.textContent = error.message;
  }
}
