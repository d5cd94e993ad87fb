// Ponte knowledge page: what its parts share. The page's elements, its state, its API
// client and its sign-in (knowledge managers and administrators, the token shared with the
// console and the reports pages).

import { createApi } from './staff-api.js';
import { createSignin } from './staff-signin.js';
import { t } from './knowledge-texts.js';

export const $ = (id) => document.getElementById(id);
export const el = {
  app: $('knowledge'),
  tabs: [$('kb-tab-articles'), $('kb-tab-activities')],
  panel: $('kb-panel'),
  filter: $('kb-filter'),
  count: $('kb-count'),
  list: $('kb-list'),
  newButton: $('kb-new'),
  editorHeading: $('kb-editor-heading'),
  editorEmpty: $('kb-editor-empty'),
  form: $('kb-editor'),
  save: $('kb-save'),
  cancel: $('kb-cancel'),
  del: $('kb-delete'),
  message: $('kb-message'),
  source: $('kb-source'),
  reindex: $('reindex'),
  reindexStatus: $('reindex-status'),
  reindexProgress: $('reindex-progress'),
  reindexErrors: $('reindex-errors'),
  reindexErrorsHeading: $('reindex-errors-heading'),
  dialog: $('kb-confirm'),
  dialogText: $('kb-confirm-text'),
  dialogYes: $('kb-confirm-yes'),
};
export const field = (name) => $(`kb-field-${name}`);

export const state = {
  kind: 'article', // the tab shown
  items: { article: [], activity: [] },
  loaded: { article: false, activity: false },
  editing: null, // {kind, isNew, original}
  dirty: false,
  busy: false,
  poll: null, // {id, timer}
  rovingId: null,
  snapshot: '',
};

export const session = createSignin({
  storageKey: 'ponte.token',
  app: 'knowledge',
  texts: {
    empty: t('tokenEmpty'),
    unknown: t('tokenUnknown'),
    forbidden: t('tokenForbidden'),
    ended: t('sessionEnded'),
    signIn: t('signIn'),
    signingIn: t('signingIn'),
  },
});

const client = createApi({
  token: () => session.token,
  network: t('network'),
  rateLimited: (seconds) => t('rateLimited', seconds),
});

// { status, data } of `method path`; a failure is an ApiError whose `detail` is the
// server's own (English) message: it names the field a document lacks.
export const api = (method, path, body) => client.json(method, path, body);
