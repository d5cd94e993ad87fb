// Ponte admin page: quick replies (a shortcut and its text in pt-BR, es and en; shared, since
// an administrator writes shared ones only) and macros (a name and ordered steps: tag,
// remove a tag, transfer, send a quick reply, close with a reason), listed, written and
// deleted through `/api/desk/quick-replies/{name}` and `/api/desk/macros/{id}`. A personal
// quick reply is listed with its owner and may be deleted, never rewritten here: saving it
// as an administrator would make it shared.

import { api, changed, data, reload, segment } from './admin-api.js';
import { LANG, t } from './admin-texts.js';
import { $, announce, askFirst, el, fieldError, fillSelect, missing, personName, submitting } from './admin-ui.js';

const LANGS = [
  ['pt-BR', 'quick-text-pt'],
  ['es', 'quick-text-es'],
  ['en', 'quick-text-en'],
];

// ---------------------------------------------------------------- quick replies

/** The text a reader of this page sees first: theirs, else the first written. */
function textFor(texts) {
  if (texts[LANG] && texts[LANG].trim()) return texts[LANG];
  const any = Object.values(texts).find((text) => text && text.trim());
  return any || '';
}

function editQuick(found) {
  const shortcut = $('quick-shortcut');
  shortcut.value = found ? found.shortcut.replace(/^\//, '') : '';
  shortcut.readOnly = Boolean(found);
  for (const [lang, id] of LANGS) $(id).value = found ? found.texts[lang] || '' : '';
  $('quick-form-heading').textContent = found ? t('quickFormEdit', found.shortcut) : t('quickFormNew');
}

async function deleteQuick(found) {
  try {
    await api('DELETE', `/api/desk/quick-replies/${segment(found.shortcut.replace(/^\//, ''))}`);
    await reload('quickReplies');
    if ($('quick-shortcut').readOnly && $('quick-shortcut').value === found.shortcut.slice(1)) editQuick(null);
    announce(t('removed', found.shortcut));
    $('quick-heading').focus();
    return true;
  } catch (error) {
    announce(error.message, true);
    return false;
  }
}

function renderQuick() {
  $('quick-list').replaceChildren(...data.quickReplies.map((found) => {
    const actions = el('div', { class: 'ad-item-actions' });
    if (!found.owner) {
      actions.append(el('button', {
        type: 'button',
        class: 'secondary',
        text: t('edit'),
        'aria-label': t('editOf', found.shortcut),
        onclick: () => {
          editQuick(found);
          $('quick-text-pt').focus();
        },
      }));
    }
    actions.append(el('button', {
      type: 'button',
      class: 'secondary',
      text: t('remove'),
      'aria-label': t('removeOf', found.shortcut),
      onclick: () => askFirst(actions, t('removeAsk', found.shortcut), t('removeNow'), () => deleteQuick(found)),
    }));
    return el('li', { class: 'ad-item', dataset: { shortcut: found.shortcut } },
      el('div', { class: 'ad-item-main' },
        el('p', { class: 'ad-item-title' },
          el('span', { class: 'ad-strong ad-mono', text: found.shortcut }), ' ',
          el('span', { class: 'ad-badge', text: found.owner ? personName(data.people, found.owner) : t('sharedReply') })),
        el('p', { class: 'ad-item-meta ad-clip', text: textFor(found.texts) }),
        found.owner ? el('p', { class: 'ad-item-meta', text: t('personalOf', personName(data.people, found.owner)) }) : null),
      actions);
  }));
  $('quick-empty').hidden = data.quickReplies.length > 0;
}

async function saveQuick(event) {
  event.preventDefault();
  const form = $('quick-form');
  const shortcut = $('quick-shortcut');
  await submitting(form, async () => {
    shortcut.value = shortcut.value.trim().replace(/^\/+/, '');
    if (missing([shortcut])) return null;
    const texts = {};
    for (const [lang, id] of LANGS) {
      const text = $(id).value.trim();
      if (text) texts[lang] = text;
    }
    const saved = await api('PUT', `/api/desk/quick-replies/${segment(shortcut.value)}`, { texts, personal: false });
    await reload('quickReplies');
    editQuick(saved);
    return t('quickSaved', saved.shortcut);
  }, {
    field: (error) => {
      if (['invalid_shortcut', 'invalid_id'].includes(error.code)) return shortcut;
      if (error.code === 'empty_quick_reply') return $('quick-texts');
      return null;
    },
  });
}

// ---------------------------------------------------------------- macros

const ACTIONS = [
  ['tag', 'actionTag', 'tag', 'stepTagLabel'],
  ['untag', 'actionUntag', 'tag', 'stepTagLabel'],
  ['transfer', 'actionTransfer', 'to', 'stepPersonLabel'],
  ['send_quick_reply', 'actionQuick', 'shortcut', 'stepQuickLabel'],
  ['close', 'actionClose', 'reason', 'stepReasonLabel'],
];

const actionOf = (name) => ACTIONS.find(([action]) => action === name) || ACTIONS[0];

/** The steps in the form, as `{action, value}`. */
let steps = [];

function describe(step) {
  const value = step[actionOf(step.action)[2]] || '';
  switch (step.action) {
    case 'tag': return t('doTag', value);
    case 'untag': return t('doUntag', value);
    case 'transfer': return t('doTransfer', personName(data.people, value));
    case 'send_quick_reply': return t('doQuick', value);
    case 'close': return t('doClose', value);
    default: return step.action;
  }
}

/** The choices of a step's value, or `null` for free text. */
function choicesFor(action, current) {
  let options = null;
  if (action === 'transfer') options = data.people.map((found) => [found.id, `${found.name} (${found.id})`]);
  if (action === 'send_quick_reply') options = data.quickReplies.map((found) => [found.shortcut, found.shortcut]);
  if (action === 'close') options = ((data.config && data.config.close_reasons) || []).map((reason) => [reason, reason]);
  if (!options) return null;
  // A value the lists no longer hold is kept, so that editing one step loses no other.
  if (current && !options.some(([value]) => value === current)) options.push([current, current]);
  return [['', t('chooseOne')], ...options];
}

function stepRow(step, index) {
  const n = index + 1;
  const actionId = `macro-step-${n}-action`;
  const valueId = `macro-step-${n}-value`;
  const action = el('select', { id: actionId, dataset: { step: index } },
    ...ACTIONS.map(([value, label]) => el('option', { value, text: t(label) })));
  action.value = step.action;
  action.addEventListener('change', () => {
    const keepsText = choicesFor(step.action, '') === null && choicesFor(action.value, '') === null;
    step.action = action.value;
    if (!keepsText) step.value = '';
    renderSteps(valueId);
  });
  const choices = choicesFor(step.action, step.value);
  let value;
  if (choices) {
    value = el('select', { id: valueId });
    fillSelect(value, choices, step.value);
    value.addEventListener('change', () => { step.value = value.value; });
  } else {
    value = el('input', { id: valueId, value: step.value, autocomplete: 'off', autocapitalize: 'off' });
    value.addEventListener('input', () => { step.value = value.value; });
  }
  const move = (to, focusClass) => {
    const [moved] = steps.splice(index, 1);
    steps.splice(to, 0, moved);
    renderSteps(null);
    const row = $('macro-step-list').children[to];
    const again = row && (row.querySelector(focusClass) || row.querySelector('select'));
    if (again && !again.disabled) again.focus();
    else if (row) row.querySelector('select').focus();
  };
  return el('li', { class: 'ad-step' },
    el('span', { class: 'ad-step-no', 'aria-hidden': 'true', text: String(n) }),
    el('div', { class: 'ad-step-fields' },
      el('div', { class: 'ad-field' },
        el('label', { for: actionId }, el('span', { class: 'visually-hidden', text: `${t('stepN', n)}: ` }), t('stepActionLabel')),
        action),
      el('div', { class: 'ad-field' },
        el('label', { for: valueId }, el('span', { class: 'visually-hidden', text: `${t('stepN', n)}: ` }), t(actionOf(step.action)[3])),
        value)),
    el('div', { class: 'ad-step-tools' },
      el('button', {
        type: 'button', class: 'secondary ad-icon ad-up', 'aria-label': t('moveUp', n), text: '↑',
        disabled: index === 0, onclick: () => move(index - 1, '.ad-up'),
      }),
      el('button', {
        type: 'button', class: 'secondary ad-icon ad-down', 'aria-label': t('moveDown', n), text: '↓',
        disabled: index === steps.length - 1, onclick: () => move(index + 1, '.ad-down'),
      }),
      el('button', {
        type: 'button', class: 'secondary ad-icon', 'aria-label': t('removeStep', n), text: '✕',
        onclick: () => {
          steps.splice(index, 1);
          renderSteps(null);
          const rows = $('macro-step-list').children;
          const next = rows[Math.min(index, rows.length - 1)];
          (next ? next.querySelector('select') : $('macro-add-step')).focus();
        },
      })));
}

/** Draws the steps; `focusId` is the control to focus afterwards. */
function renderSteps(focusId) {
  $('macro-step-list').replaceChildren(...steps.map(stepRow));
  $('macro-steps-empty').hidden = steps.length > 0;
  if (focusId && $(focusId)) $(focusId).focus();
}

function editMacro(found) {
  $('macro-id').value = found ? found.id : '';
  $('macro-id').readOnly = Boolean(found);
  $('macro-name').value = found ? found.name : '';
  steps = found
    ? found.actions.map((step) => ({ action: step.action, value: step[actionOf(step.action)[2]] || '' }))
    : [];
  renderSteps(null);
  $('macro-form-heading').textContent = found ? t('macroFormEdit', found.name) : t('macroFormNew');
}

async function deleteMacro(found) {
  try {
    await api('DELETE', `/api/desk/macros/${segment(found.id)}`);
    await reload('macros');
    if ($('macro-id').readOnly && $('macro-id').value === found.id) editMacro(null);
    announce(t('removed', found.name));
    $('macros-heading').focus();
    return true;
  } catch (error) {
    announce(error.message, true);
    return false;
  }
}

function renderMacros() {
  $('macros-list').replaceChildren(...data.macros.map((found) => {
    const actions = el('div', { class: 'ad-item-actions' },
      el('button', {
        type: 'button',
        class: 'secondary',
        text: t('edit'),
        'aria-label': t('editOf', found.name),
        onclick: () => {
          editMacro(found);
          $('macro-name').focus();
        },
      }));
    actions.append(el('button', {
      type: 'button',
      class: 'secondary',
      text: t('remove'),
      'aria-label': t('removeOf', found.name),
      onclick: () => askFirst(actions, t('removeAsk', found.name), t('removeNow'), () => deleteMacro(found)),
    }));
    return el('li', { class: 'ad-item', dataset: { macroId: found.id } },
      el('div', { class: 'ad-item-main' },
        el('p', { class: 'ad-item-title' },
          el('span', { class: 'ad-strong', text: found.name }), ' ',
          el('span', { class: 'ad-mono ad-muted', text: found.id })),
        el('ol', { class: 'ad-item-steps' }, ...found.actions.map((step) => el('li', { text: describe(step) })))),
      actions);
  }));
  $('macros-empty').hidden = data.macros.length > 0;
}

async function saveMacro(event) {
  event.preventDefault();
  const form = $('macro-form');
  await submitting(form, async () => {
    if (missing([$('macro-id'), $('macro-name')])) return null;
    const empty = steps.findIndex((step) => !String(step.value || '').trim());
    if (empty >= 0) {
      const field = $(`macro-step-${empty + 1}-value`);
      fieldError(field, t('stepNeedsValue', empty + 1));
      field.focus();
      return null;
    }
    const id = $('macro-id').value.trim();
    const body = {
      name: $('macro-name').value.trim(),
      actions: steps.map((step) => ({ action: step.action, [actionOf(step.action)[2]]: step.value.trim() })),
    };
    const saved = await api('PUT', `/api/desk/macros/${segment(id)}`, body);
    await reload('macros');
    editMacro(saved);
    return t('macroSaved', saved.name);
  }, {
    field: (error) => {
      if (error.code === 'invalid_id') return $('macro-id');
      if (error.code === 'invalid_shortcut') {
        const index = steps.findIndex((step) => step.action === 'send_quick_reply');
        return index >= 0 ? $(`macro-step-${index + 1}-value`) : null;
      }
      return null;
    },
  });
}

export function init() {
  $('quick-form').addEventListener('submit', saveQuick);
  $('quick-new').addEventListener('click', () => {
    editQuick(null);
    $('quick-shortcut').focus();
  });
  $('macro-form').addEventListener('submit', saveMacro);
  $('macro-new').addEventListener('click', () => {
    editMacro(null);
    $('macro-id').focus();
  });
  $('macro-add-step').addEventListener('click', () => {
    steps.push({ action: 'tag', value: '' });
    renderSteps(`macro-step-${steps.length}-action`);
  });
  changed.addEventListener('change', (event) => {
    if (['quickReplies', 'people'].includes(event.detail)) renderQuick();
    if (['macros', 'people'].includes(event.detail)) renderMacros();
    // The steps' choices follow the people, the quick replies and the close reasons.
    if (['people', 'quickReplies', 'config'].includes(event.detail)) renderSteps(null);
  });
  editQuick(null);
  editMacro(null);
}

export function reset() {
  editQuick(null);
  editMacro(null);
}
