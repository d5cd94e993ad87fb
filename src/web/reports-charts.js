// Ponte reports page: the charts over time, drawn here as inline SVG (no library): bars or
// lines per day with a value axis, day labels, axis titles and a legend. Each chart is an
// image with a title and a description listing every value, for those who cannot see it;
// the "Per day" table holds the same figures. Shapes are placed with SVG attributes and
// coloured by reports.css classes: the page's policy allows no inline style.

import { UI_LANG } from './staff-lang.js';
import { fmt } from './reports-format.js';
import { t } from './reports-texts.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 640;
const HEIGHT = 270;
const MARGIN = { top: 14, right: 14, bottom: 56, left: 66 };
const MAX_DAY_LABELS = 10;

function node(name, attributes, text) {
  const created = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes || {})) created.setAttribute(key, String(value));
  if (text !== undefined) created.textContent = text;
  return created;
}

// A round step for about four intervals up to `max`.
function niceStep(max, integer) {
  const raw = max / 4;
  if (raw <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  const step = nice * power;
  return integer ? Math.max(1, Math.round(step)) : step;
}

let charts = 0;

// spec: { name, title, yTitle, days, kind: 'bar' | 'line', series: [{ label, values,
// describe }], max and steps (a fixed value axis), integer, suffix (after axis values) }.
// A null value is a day without data: no bar, a break in the line.
function chart(spec) {
  charts += 1;
  const id = `rp-chart-${charts}`;
  const { days, series } = spec;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const values = series.flatMap((one) => one.values).filter((v) => v != null);
  const highest = Math.max(0, ...values);
  const step = spec.max ? spec.max / (spec.steps || 5) : niceStep(highest || 1, spec.integer);
  const top = spec.max || Math.max(step, Math.ceil(highest / step) * step);
  const band = plotWidth / Math.max(1, days.length);
  const x = (index) => MARGIN.left + band * index + band / 2;
  const y = (value) => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const baseline = MARGIN.top + plotHeight;

  const svg = node('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', class: 'rp-chart-svg',
    'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-desc`, focusable: 'false',
  });
  svg.dataset.chart = spec.name;
  const described = series.map((one) => {
    const parts = days.map((day, index) => {
      const value = one.values[index];
      return `${fmt.day(day, { day: 'numeric', month: 'short' })}: ${value == null ? t('noValue') : one.describe(value)}`;
    });
    return `${series.length > 1 ? `${one.label}: ` : ''}${parts.join('; ')}`;
  });
  svg.append(
    node('title', { id: `${id}-title` }, spec.title),
    node('desc', { id: `${id}-desc` }, t('chartAlt', spec.yTitle, described.join('. '))),
  );

  // The value axis: grid lines and their values, with as many decimals as the step has.
  let digits = 0;
  while (digits < 4 && Math.abs(step * 10 ** digits - Math.round(step * 10 ** digits)) > 1e-6) digits += 1;
  const tickFormat = new Intl.NumberFormat(UI_LANG, { maximumFractionDigits: digits });
  const grid = node('g', { class: 'rp-axis rp-axis-y' });
  for (let value = 0; value <= top + step / 1000; value += step) {
    const at = y(value);
    grid.append(
      node('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: at, y2: at, class: value ? 'rp-grid' : 'rp-baseline' }),
      node('text', { x: MARGIN.left - 8, y: at + 4, 'text-anchor': 'end' }, `${tickFormat.format(value)}${spec.suffix || ''}`),
    );
  }
  const middle = MARGIN.top + plotHeight / 2;
  grid.append(node('text', {
    x: 14, y: middle, 'text-anchor': 'middle', transform: `rotate(-90 14 ${middle})`, class: 'rp-axis-title',
  }, spec.yTitle));
  svg.append(grid);

  // The day axis: some days labelled, so labels never overlap.
  const every = Math.ceil(days.length / MAX_DAY_LABELS);
  const dayAxis = node('g', { class: 'rp-axis rp-axis-x' });
  days.forEach((day, index) => {
    if (index % every !== 0) return;
    dayAxis.append(node('text', { x: x(index), y: baseline + 18, 'text-anchor': 'middle' },
      fmt.day(day, { day: 'numeric', month: 'short' })));
  });
  dayAxis.append(node('text', {
    x: MARGIN.left + plotWidth / 2, y: HEIGHT - 8, 'text-anchor': 'middle', class: 'rp-axis-title',
  }, t('axisDay')));
  svg.append(dayAxis);

  const marks = node('g', { class: 'rp-marks' });
  series.forEach((one, position) => {
    const cls = `rp-series rp-series-${position + 1}`;
    if (spec.kind === 'bar') {
      const width = Math.max(1, band * 0.7);
      one.values.forEach((value, index) => {
        if (value == null) return;
        const bar = node('rect', {
          x: x(index) - width / 2, y: y(value), width, height: Math.max(0, baseline - y(value)),
          class: `${cls} rp-bar`, 'data-day': days[index], 'data-value': value,
        });
        bar.append(node('title', {}, `${fmt.day(days[index])}: ${one.describe(value)}`));
        marks.append(bar);
      });
      return;
    }
    // A line, broken where a day has no value, with a dot on every value.
    let path = '';
    let drawing = false;
    one.values.forEach((value, index) => {
      if (value == null) { drawing = false; return; }
      path += `${drawing ? 'L' : 'M'}${x(index).toFixed(1)} ${y(value).toFixed(1)} `;
      drawing = true;
    });
    if (path) marks.append(node('path', { d: path.trim(), class: `${cls} rp-line` }));
    one.values.forEach((value, index) => {
      if (value == null) return;
      const dot = node('circle', {
        cx: x(index), cy: y(value), r: 3.5, class: `${cls} rp-dot`, 'data-day': days[index], 'data-value': value,
      });
      dot.append(node('title', {}, `${one.label ? `${one.label} · ` : ''}${fmt.day(days[index])}: ${one.describe(value)}`));
      marks.append(dot);
    });
  });
  svg.append(marks);
  if (!values.length) {
    svg.append(node('text', {
      x: MARGIN.left + plotWidth / 2, y: middle, 'text-anchor': 'middle', class: 'rp-no-data',
    }, t('noData')));
  }

  const figure = document.createElement('figure');
  figure.className = 'rp-chart rp-card';
  const caption = document.createElement('figcaption');
  const heading = document.createElement('h3');
  heading.textContent = spec.title;
  caption.append(heading);
  figure.append(caption, svg);
  if (series.length > 1) {
    const legend = document.createElement('ul');
    legend.className = 'rp-legend';
    series.forEach((one, position) => {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = `rp-swatch rp-swatch-${position + 1}`;
      swatch.setAttribute('aria-hidden', 'true');
      item.append(swatch, document.createTextNode(one.label));
      legend.append(item);
    });
    figure.append(legend);
  }
  return figure;
}

// The four charts of a desk report's days.
export function deskCharts(byDay) {
  const days = byDay.map((row) => row.key);
  const pick = (field) => byDay.map((row) => row[field]);
  const waits = [...pick('queue_p50_ms'), ...pick('queue_p90_ms')].filter((v) => v != null);
  const longest = Math.max(0, ...waits);
  const [unit, axis] = longest >= 2 * 3600000 ? [3600000, 'axisHours']
    : longest >= 120000 ? [60000, 'axisMinutes'] : longest >= 2000 ? [1000, 'axisSeconds'] : [1, 'axisMillis'];
  const inUnit = (values) => values.map((ms) => (ms == null ? null : ms / unit));
  return [
    chart({
      name: 'conversations', title: t('chartConversations'), yTitle: t('axisConversations'), days, kind: 'bar',
      integer: true,
      series: [{ values: pick('conversations'), describe: (v) => fmt.int(v) }],
    }),
    chart({
      name: 'containment', title: t('chartContainment'), yTitle: t('axisPercent'), days, kind: 'line',
      max: 100, steps: 4, suffix: '%',
      // A day without conversations has no rate.
      series: [{
        values: byDay.map((row) => (row.conversations ? row.containment * 100 : null)),
        describe: (v) => fmt.percent(v / 100),
      }],
    }),
    chart({
      name: 'queue', title: t('chartQueue'), yTitle: t(axis), days, kind: 'line',
      series: [
        { label: t('p50'), values: inUnit(pick('queue_p50_ms')), describe: (v) => fmt.duration(v * unit) },
        { label: t('p90'), values: inUnit(pick('queue_p90_ms')), describe: (v) => fmt.duration(v * unit) },
      ],
    }),
    chart({
      name: 'satisfaction', title: t('chartSatisfaction'), yTitle: t('axisRating'), days, kind: 'bar',
      max: 5, steps: 5,
      series: [{ values: pick('satisfaction'), describe: (v) => fmt.rating(v) }],
    }),
  ];
}

