// Ponte's reports and knowledge-gaps pages: the period picker (#period: the last 7, 30 or
// 90 days or custom dates, in a time zone that defaults to the browser's), kept for the tab
// in sessionStorage, and the period as the API takes it.

const PERIOD_KEY = 'ponte.reports.period';

const $ = (id) => document.getElementById(id);
const el = {
  form: $('period'),
  preset: $('period-preset'),
  since: $('period-since'),
  until: $('period-until'),
  tz: $('period-tz'),
  custom: $('period-custom'),
};

const browserZone = (() => {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch (_) { return 'UTC'; }
})();

// Today in `zone`, as YYYY-MM-DD.
function today(zone) {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
      .format(new Date());
  } catch (_) {
    return new Date().toISOString().slice(0, 10);
  }
}

function addDays(day, n) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + n);
  return date.toISOString().slice(0, 10);
}

function fillZones(saved) {
  let zones = [];
  try { zones = Intl.supportedValuesOf('timeZone'); } catch (_) { zones = []; }
  const all = Array.from(new Set(['UTC', browserZone, saved, ...zones].filter(Boolean))).sort();
  el.tz.replaceChildren(...all.map((zone) => {
    const option = document.createElement('option');
    option.value = zone;
    option.textContent = zone.replace(/_/g, ' ');
    return option;
  }));
  el.tz.value = saved || browserZone;
}

// The period the picker shows: whole days, `until` included.
export function period() {
  const tz = el.tz.value || 'UTC';
  if (el.preset.value === 'custom') return { since: el.since.value, until: el.until.value, tz };
  const until = today(tz);
  return { since: addDays(until, 1 - Number(el.preset.value)), until, tz };
}

// The period as the API takes it: a period that reaches today ends now (the server's
// default), so time online is not counted into the hours still to come.
export function bounds() {
  const { since, until, tz } = period();
  return until >= today(tz) ? { since, tz } : { since, until, tz };
}

export function periodQuery(extra) {
  return new URLSearchParams(Object.assign(bounds(), extra || {})).toString();
}

function syncPicker() {
  const custom = el.preset.value === 'custom';
  el.custom.hidden = !custom;
  if (!custom) {
    const { since, until } = period();
    el.since.value = since;
    el.until.value = until;
  }
  sessionStorage.setItem(PERIOD_KEY, JSON.stringify({
    preset: el.preset.value, since: el.since.value, until: el.until.value, tz: el.tz.value,
  }));
}

// Restores the tab's last period and calls `changed()` whenever the reader picks another.
export function initPicker(changed) {
  let saved = {};
  try { saved = JSON.parse(sessionStorage.getItem(PERIOD_KEY) || '{}') || {}; } catch (_) { saved = {}; }
  fillZones(saved.tz);
  if (['7', '30', '90', 'custom'].includes(saved.preset)) el.preset.value = saved.preset;
  if (saved.since) el.since.value = saved.since;
  if (saved.until) el.until.value = saved.until;
  syncPicker();
  el.preset.addEventListener('change', () => { syncPicker(); if (el.preset.value !== 'custom') changed(); });
  el.tz.addEventListener('change', () => { syncPicker(); changed(); });
  for (const input of [el.since, el.until]) input.addEventListener('change', () => { syncPicker(); changed(); });
  el.form.addEventListener('submit', (event) => { event.preventDefault(); syncPicker(); changed(); });
}
