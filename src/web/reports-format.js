// Ponte reports and knowledge-gaps pages: how figures read, in the reader's language.
// Counts, percentages, ratings, durations, report days (YYYY-MM-DD) and instants (in the
// period's time zone); a missing figure reads as a dash.

import { UI_LANG } from './staff-lang.js';
import { period } from './staff-period.js';
import { t } from './reports-texts.js';

const integer = new Intl.NumberFormat(UI_LANG);
const percent = new Intl.NumberFormat(UI_LANG, { style: 'percent', maximumFractionDigits: 1 });
const decimal = new Intl.NumberFormat(UI_LANG, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export const fmt = {
  int: (n) => integer.format(n || 0),
  percent: (x) => percent.format(x || 0),
  rating: (x) => (x == null ? t('none') : decimal.format(x)),
  duration(ms) {
    if (ms == null) return t('none');
    if (ms > 0 && ms < 100) return `< ${decimal.format(0.1)} s`;
    if (ms > 0 && ms < 950) return `${decimal.format(ms / 1000)} s`;
    const seconds = Math.round(ms / 1000);
    if (seconds < 60) return `${seconds} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return seconds % 60 ? `${minutes} min ${seconds % 60} s` : `${minutes} min`;
    return minutes % 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes / 60} h`;
  },
  // A report day (YYYY-MM-DD) as the reader writes dates.
  day: (day, options) => new Date(`${day}T12:00:00Z`).toLocaleDateString(UI_LANG,
    Object.assign({ timeZone: 'UTC' }, options || { day: 'numeric', month: 'short', year: 'numeric' })),
  dateTime: (ms) => (ms == null ? t('none') : new Date(ms).toLocaleString(UI_LANG,
    { timeZone: period().tz, dateStyle: 'short', timeStyle: 'short' })),
};
