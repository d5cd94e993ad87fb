// Ponte knowledge-gaps page: what its parts share. The page's elements and state, the
// message line, a button, the name of a topic and of an activity (the activities are
// fetched once, when first needed).

import { UI_LANG } from './staff-lang.js';
import { api, make } from './reports-base.js';

export const LANGUAGE_NAMES = { 'pt-BR': 'Português (Brasil)', es: 'Español', en: 'English' };

const $ = (id) => document.getElementById(id);
export const el = {
  language: $('gaps-language'),
  showDismissed: $('gaps-show-dismissed'),
  csv: $('gaps-csv'),
  csvStatus: $('gaps-csv-status'),
  summary: $('gaps-summary'),
  message: $('gaps-message'),
  list: $('gaps'),
};

export const state = { report: null, activities: null };

export function button(text, className, onClick) {
  const created = make('button', `rp-button ${className || ''}`.trim(), text);
  created.type = 'button';
  created.addEventListener('click', onClick);
  return created;
}

export function say(text, isError) {
  el.message.textContent = text || '';
  el.message.classList.toggle('rp-error', Boolean(isError));
}

// What names a topic for people: its first example, else its words.
export const nameOf = (cluster) => cluster.examples[0] || cluster.label || cluster.key;

export function activityName(id, language) {
  const found = (state.activities || []).find((activity) => activity.id === id);
  const names = (found && found.name) || {};
  return names[language] || names[UI_LANG] || names['pt-BR'] || names.es || names.en || id;
}

export async function activities() {
  if (!state.activities) {
    const data = await api('GET', '/api/activities');
    state.activities = ((data && data.activities) || []).slice()
      .sort((a, b) => String(a.id).localeCompare(String(b.id)));
  }
  return state.activities;
}
