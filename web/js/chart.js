// The drift timeline: a hand-written SVG chart of events per bucket (hour or
// day, UTC), stacked by severity. Pure functions of their input; the caller
// puts the returned element into the page.
import {SEVERITIES, parseTime, svg, h} from './dom.js';

export const HOUR = 3600 * 1000;
export const DAY = 24 * HOUR;

// The ranges the overview offers: label, span, bucket size.
export const RANGES = {
  '24h': {label: '24 hours', span: DAY, bucket: HOUR},
  '7d': {label: '7 days', span: 7 * DAY, bucket: DAY},
  '30d': {label: '30 days', span: 30 * DAY, bucket: DAY},
};

// The window [start, end) of a range ending with the bucket that holds `now`.
export function rangeWindow(range, now) {
  const end = Math.floor(now / range.bucket) * range.bucket + range.bucket;
  return {start: end - range.span, end};
}

// Counts events by bucket and severity. Events outside the window are
// ignored. Returns [{start, counts: {low, medium, high, critical}, total}].
export function bucketize(events, range, now) {
  const {start, end} = rangeWindow(range, now);
  const n = Math.round(range.span / range.bucket);
  const buckets = [];
  for (let i = 0; i < n; i++) {
    buckets.push({start: start + i * range.bucket, counts: {low: 0, medium: 0, high: 0, critical: 0},
      total: 0});
  }
  for (const e of events) {
    const t = parseTime(e.detected);
    if (!(t >= start && t < end)) continue;
    const b = buckets[Math.floor((t - start) / range.bucket)];
    if (b.counts[e.severity] === undefined) continue;
    b.counts[e.severity]++;
    b.total++;
  }
  return buckets;
}

// 0..max in about 4 steps of 1, 2 or 5 times a power of ten.
function ticks(max) {
  if (max <= 0) return [0, 1];
  const raw = max / 4;
  const pow = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw);
  const out = [];
  for (let v = 0; v < max + step; v += step) out.push(v);
  return out;
}

// A burst is a bucket with more than BURST_FACTOR times the median of the
// non-empty buckets and at least BURST_MIN events: drawn to scale, it would
// press every other bar into a pixel (1,300 package events in one hour
// against a few a day). Returns the axis maximum (the largest bucket that is
// not a burst) and the bursts' threshold (Infinity when there is none).
export const BURST_FACTOR = 10;
export const BURST_MIN = 50;
export function burstScale(buckets) {
  const totals = buckets.map((b) => b.total).filter((t) => t > 0).sort((a, b) => a - b);
  if (totals.length === 0) return {max: 0, limit: Infinity};
  const median = totals[Math.floor((totals.length - 1) / 2)];
  const limit = Math.max(BURST_MIN - 1, BURST_FACTOR * median);
  const rest = totals.filter((t) => t <= limit);
  // At least half the buckets are at most the median, so `rest` is never empty.
  if (rest.length === totals.length) return {max: totals[totals.length - 1], limit: Infinity};
  return {max: rest[rest.length - 1], limit};
}

// The bursts of `buckets` with the scale of the rest: {max, limit, bursts}.
// Computed once for the chart and the note under it.
export function burstsOf(buckets) {
  const {max, limit} = burstScale(buckets);
  return {max, limit, bursts: buckets.filter((b) => b.total > limit)};
}

function bucketLabel(ms, range) {
  const iso = new Date(ms).toISOString();
  return range.bucket < DAY ? iso.slice(11, 16) : iso.slice(5, 10);
}

// The chart as an <svg> drawn for `width` CSS pixels (so that its text keeps
// its size on a phone), with a <title> per bar segment and an accessible
// summary; `id` prefixes the ids of its title and description. The axis is
// scaled to the buckets that are not bursts (burstScale); a burst's bar
// rises past the axis into the top margin, is broken by two slanted gaps
// and carries its count, its segments in proportion to its severities.
// `scale`: burstsOf(buckets), when the caller has it already.
export function timelineChart(buckets, range,
    {width = 760, id = 'timeline', scale = burstsOf(buckets)} = {}) {
  const {max, limit, bursts} = scale;
  const W = Math.max(280, Math.round(width)), H = 240, left = 40, right = 8;
  const top = bursts.length ? 34 : 12, bottom = 28;
  const plotW = W - left - right, plotH = H - top - bottom;
  const t = ticks(max);
  const yMax = t[t.length - 1];
  const y = (v) => top + plotH - (v / yMax) * plotH;
  const burstTop = top - 14;
  const slot = plotW / buckets.length;
  const barW = Math.max(2, slot * 0.72);
  const total = buckets.reduce((s, b) => s + b.total, 0);
  const peak = buckets.reduce((p, b) => (b.total > p.total ? b : p), buckets[0]);
  const unit = range.bucket < DAY ? 'hour' : 'day';
  const desc = total === 0
    ? `No drift events in the last ${range.label}.`
    : `${total} drift events in the last ${range.label}; the busiest ${unit} was ${
      bucketLabel(peak.start, range)} UTC with ${peak.total}.` + (bursts.length
      ? ` Drawn clipped, above the scale: ${bursts.map((b) =>
        `${bucketLabel(b.start, range)} (${b.total})`).join(', ')}.` : '');

  const chart = svg('svg', {
    'viewBox': `0 0 ${W} ${H}`, 'class': 'chart', 'role': 'img',
    'aria-labelledby': `${id}-title ${id}-desc`, 'preserveAspectRatio': 'xMidYMid meet',
  },
  svg('title', {id: `${id}-title`}, `Drift events per ${unit}`),
  svg('desc', {id: `${id}-desc`}, desc));

  for (const v of t) {
    chart.appendChild(svg('line', {x1: left, x2: W - right, y1: y(v), y2: y(v), class: 'gridline'}));
    chart.appendChild(svg('text', {'x': left - 6, 'y': y(v) + 4, 'text-anchor': 'end',
      'class': 'axis'}, String(v)));
  }
  const labelEvery = Math.ceil(buckets.length / Math.max(2, Math.floor(plotW / 56)));
  buckets.forEach((b, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    const burst = b.total > limit;
    // A burst's segments share the bar's drawn height in proportion.
    const scale = burst ? (y(0) - burstTop) / b.total : plotH / yMax;
    const group = svg('g', {'class': burst ? 'bar burst' : 'bar',
      'data-start': new Date(b.start).toISOString(), 'data-total': b.total,
      'data-burst': burst ? 'true' : null});
    let base = y(0);
    for (const sev of SEVERITIES) {
      const n = b.counts[sev];
      if (!n) continue;
      const height = Math.max(1, n * scale);
      group.appendChild(svg('rect', {x, y: base - height, width: barW, height,
        class: `seg sev-${sev}`},
      svg('title', {}, `${bucketLabel(b.start, range)} UTC: ${n} ${sev}`)));
      base -= height;
    }
    if (burst) {
      for (const dy of [0, 6]) {
        const yb = top + 4 + dy;
        group.appendChild(svg('line', {x1: x - 2, x2: x + barW + 2, y1: yb + 3, y2: yb - 3,
          class: 'burst-break'}));
      }
      group.appendChild(svg('text', {'x': x + barW / 2, 'y': burstTop - 4,
        'text-anchor': 'middle', 'class': 'burst-label'}, b.total.toLocaleString('en-US')));
    }
    chart.appendChild(group);
    if (i % labelEvery === 0) {
      chart.appendChild(svg('text', {'x': x + barW / 2, 'y': H - 8, 'text-anchor': 'middle',
        'class': 'axis'}, bucketLabel(b.start, range)));
    }
  });
  chart.appendChild(svg('line', {x1: left, x2: W - right, y1: y(0), y2: y(0), class: 'baseline'}));
  return chart;
}

// What the chart drew clipped, in words for under it; null without bursts.
// `scale`: burstsOf(buckets), as given to timelineChart.
export function burstNote(scale, range) {
  const {bursts} = scale;
  if (bursts.length === 0) return null;
  const unit = range.bucket < DAY ? 'hour' : 'day';
  return `Burst${bursts.length === 1 ? '' : 's'} drawn clipped, above the scale, so that ` +
    `the other ${unit}s keep their height: ${bursts.map((b) => `${bucketLabel(b.start, range)} ` +
    `UTC (${b.total.toLocaleString('en-US')} events)`).join(', ')}.`;
}

export function legend() {
  return h('ul', {'class': 'legend', 'aria-label': 'Severity colours'},
      SEVERITIES.map((s) => h('li', {}, h('span', {'class': `swatch sev-${s}`, 'aria-hidden': 'true'}),
          s)));
}

// The chart's numbers as a table, for screen readers and for copying.
export function timelineTable(buckets, range) {
  return h('table', {class: 'data compact'},
      h('caption', {}, `Events per ${range.bucket < DAY ? 'hour' : 'day'} (UTC)`),
      h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Start'),
          SEVERITIES.map((s) => h('th', {scope: 'col', class: 'num'}, s)),
          h('th', {scope: 'col', class: 'num'}, 'total'))),
      h('tbody', {}, buckets.filter((b) => b.total > 0).map((b) => h('tr', {},
          h('th', {scope: 'row'}, new Date(b.start).toISOString().slice(0, 16).replace('T', ' ')),
          SEVERITIES.map((s) => h('td', {class: 'num'}, b.counts[s])),
          h('td', {class: 'num'}, b.total)))));
}
