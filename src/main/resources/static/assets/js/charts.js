// Interactive charts (Apache ECharts): every chart shows what a point is on hover; the instance is kept on
// its element (el.qfChart) and the number of data points in data-points, so tests can find and click them.
import * as echarts from '../../webjars/echarts/dist/echarts.esm.min.js';
import { h } from './ui.js';

const live = new Set();
const resizer = new ResizeObserver(entries => entries.forEach(e => e.target.qfChart?.resize()));

export const colors = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

/** A chart container: role img with a label; the chart itself is drawn by one of the functions below. */
export function chartBox(label, cls = '') {
  return h(`div.chart${cls ? '.' + cls : ''}`, { role: 'img', 'aria-label': label });
}

function init(el, option, points) {
  el.qfChart?.dispose();
  const chart = echarts.init(el, null, { renderer: 'canvas' });
  chart.setOption({ color: colors, animation: false, textStyle: { fontFamily: 'inherit' }, ...option });
  el.qfChart = chart;
  el.dataset.points = String(points);
  live.add(el);
  resizer.observe(el);
  return chart;
}

/** Disposes the charts of the page being left. */
export function disposeCharts() {
  for (const el of live) {
    resizer.unobserve(el);
    el.qfChart?.dispose();
    delete el.qfChart;
  }
  live.clear();
}

const short = (s, n = 18) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const num = v => (v === null || v === undefined ? 'n/a' : Math.abs(v) >= 100 || Number.isInteger(v) ? String(+v.toFixed(2)) : String(+v.toPrecision(4)));
const esc = s => String(s).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function zoomFor(n) {
  return n > 40 ? [{ type: 'inside', xAxisIndex: 0 }, { type: 'slider', xAxisIndex: 0, height: 18, bottom: 6 }] : [];
}

/**
 * One bar per category (layer), in the given order.
 * rows: [{name, value, detail: {label: value}}]; missing values are drawn as empty slots (the category stays).
 * more: further series over the same categories [{name, values}] (e.g. a second report).
 */
export function bars(el, { rows, valueName, color, more = [] }) {
  return init(el, {
    grid: { left: 64, right: 20, top: more.length ? 36 : 24, bottom: rows.length > 40 ? 96 : 72, containLabel: false },
    legend: more.length ? { top: 0 } : undefined,
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true,
      formatter: ps => {
        const i = ps[0].dataIndex;
        const r = rows[i];
        const values = [[valueName, r.value], ...more.map(m => [m.name, m.values[i]])].map(([k, v]) => `<br>${esc(k)}: ${num(v)}`).join('');
        const extra = Object.entries(r.detail || {}).map(([k, v]) => `<br>${esc(k)}: ${esc(typeof v === 'number' ? num(v) : v)}`).join('');
        return `<b>${esc(r.name)}</b>${values}${extra}`;
      },
    },
    xAxis: { type: 'category', data: rows.map(r => r.name), axisLabel: { rotate: 40, interval: rows.length > 40 ? 'auto' : 0, formatter: v => short(v) }, axisTick: { alignWithLabel: true } },
    yAxis: { type: 'value', name: more.length ? '' : valueName, nameTextStyle: { align: 'left' } },
    dataZoom: zoomFor(rows.length),
    series: [
      { type: 'bar', name: valueName, data: rows.map(r => r.value ?? null), itemStyle: { color: color || colors[0] }, barMaxWidth: 36 },
      ...more.map((m, i) => ({ type: 'bar', name: m.name, data: m.values.map(v => v ?? null), itemStyle: { color: colors[(i + 3) % colors.length] }, barMaxWidth: 36 })),
      // a layer without a value still gets its bar: a grey stub marked n/a, in the same place
      ...(!more.length && rows.some(r => r.value === null || r.value === undefined) ? [{
        type: 'bar', name: 'not measured', data: rows.map(r => (r.value === null || r.value === undefined ? 0 : null)), barGap: '-100%',
        barMinHeight: 8, barMaxWidth: 36, itemStyle: { color: '#cbd5e1' }, label: { show: true, position: 'top', formatter: 'n/a', color: '#64748b' },
        tooltip: { show: false },
      }] : []),
    ],
  }, rows.length);
}

/** Calibrators side by side: bars of one metric per calibrator on the left axis, another as a line on the right. */
export function grouped(el, { categories, left, right, highlight }) {
  return init(el, {
    grid: { left: 64, right: 64, top: 40, bottom: 36 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis', confine: true, valueFormatter: num },
    xAxis: { type: 'category', data: categories, axisLabel: { formatter: v => (v === highlight ? `${v} ★` : v) } },
    yAxis: [{ type: 'value', name: left.name, scale: true, axisLabel: left.percent ? { formatter: v => `${+(v * 100).toFixed(2)} %` } : {} },
      { type: 'value', name: right.name, scale: true }],
    series: [
      { type: 'bar', name: left.name, data: left.values, barMaxWidth: 48 },
      { type: 'line', name: right.name, yAxisIndex: 1, data: right.values, symbolSize: 9 },
    ],
  }, categories.length);
}

/** An axis end a tenth of the data's span beyond it (so that no point sits on the axis). */
const padded = side => ({ min, max }) => {
  const pad = (max - min) * 0.1 || Math.abs(max) * 0.05 || 1;
  const step = 10 ** Math.floor(Math.log10(pad));
  return side < 0 ? Math.floor((min - pad) / step) * step : Math.ceil((max + pad) / step) * step;
};

/**
 * Accuracy × latency: every report as a point, the Pareto front highlighted and joined.
 * points: [{id, x (latency ms), y (top-1), label, front, detail}]
 */
export function pareto(el, { points, onClick }) {
  const toData = p => ({ value: [p.x, p.y], id: p.id, p });
  const others = points.filter(p => !p.front);
  const front = points.filter(p => p.front).sort((a, b) => a.x - b.x);
  const chart = init(el, {
    grid: { left: 70, right: 30, top: 40, bottom: 56 },
    legend: { top: 0 },
    tooltip: {
      trigger: 'item', confine: true,
      formatter: ({ data }) => {
        const p = data.p;
        const extra = Object.entries(p.detail || {}).map(([k, v]) => `<br>${esc(k)}: ${esc(v)}`).join('');
        return `<b>${esc(p.label)}</b><br>top-1 ${(p.y * 100).toFixed(2)} %<br>p50 ${num(p.x)} ms${extra}<br><i>click to open the report</i>`;
      },
    },
    xAxis: { type: 'value', name: 'p50 latency (ms)', nameLocation: 'middle', nameGap: 30, min: padded(-1), max: padded(1) },
    yAxis: { type: 'value', name: 'top-1', min: padded(-1), max: padded(1), axisLabel: { formatter: v => `${(v * 100).toFixed(1)} %` } },
    series: [
      { type: 'scatter', name: 'reports', data: others.map(toData), symbolSize: 10, itemStyle: { color: '#94a3b8' }, cursor: 'pointer' },
      { type: 'line', name: 'Pareto front', data: front.map(toData), step: 'end', symbolSize: 14, lineStyle: { width: 2, type: 'dashed' },
        itemStyle: { color: colors[1] }, cursor: 'pointer' },
    ],
  }, points.length);
  chart.on('click', p => p.data?.p && onClick?.(p.data.p));
  return chart;
}

/** Several lines over one x axis, each on its own y axis (loss, accuracy, LR). series: [{name, data:[[x,y]], axis}] */
export function lines(el, { xName, series, axes }) {
  return init(el, {
    grid: { left: 64, right: 24 + 60 * Math.max(0, axes.length - 1), top: 40, bottom: 56 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis', confine: true, valueFormatter: num },
    xAxis: { type: 'value', name: xName, nameLocation: 'middle', nameGap: 30, min: 'dataMin', max: 'dataMax' },
    yAxis: axes.map((a, i) => ({ type: a.log ? 'log' : 'value', name: a.name, position: i === 0 ? 'left' : 'right', offset: i > 1 ? 60 * (i - 1) : 0, scale: true,
      axisLine: { show: true, lineStyle: { color: colors[i] } } })),
    series: series.map(s => ({ type: 'line', name: s.name, yAxisIndex: s.axis, data: s.data, showSymbol: s.data.length < 60, smooth: false,
      lineStyle: { color: colors[s.axis] }, itemStyle: { color: colors[s.axis] } })),
  }, series.reduce((n, s) => n + s.data.length, 0));
}

/**
 * An activation histogram (step area over the value axis) with each calibrator's clipping range marked.
 * hist: the histograms/tensor answer; log: logarithmic counts.
 */
export function histogram(el, { hist, log }) {
  const data = hist.counts.map((c, i) => [hist.start + i * hist.width, log && c === 0 ? null : c]);
  if (data.length) data.push([hist.start + hist.counts.length * hist.width, log ? null : 0]);
  // calibrators that clip at (nearly) the same place share one label: "percentile / mse 3.36"
  const marks = hist.calibrators.flatMap((c, i) => [[c.max, i], ...(c.min < 0 ? [[c.min, i]] : [])]).sort((a, b) => a[0] - b[0]);
  const lo = Math.min(hist.start, ...marks.map(m => m[0]));
  const hi = Math.max(hist.start + hist.counts.length * hist.width, ...marks.map(m => m[0]));
  const labels = new Map();
  for (let k = 0; k < marks.length;) {
    let j = k;
    while (j + 1 < marks.length && marks[j + 1][0] - marks[k][0] <= 0.015 * (hi - lo)) j++;
    const group = marks.slice(k, j + 1);
    labels.set(group[0].join(':'), `${group.map(([, i]) => hist.calibrators[i].calibrator).join(' / ')} ${num(group[0][0])}`);
    group.slice(1).forEach(m => labels.set(m.join(':'), ''));
    k = j + 1;
  }
  const calibrators = hist.calibrators.map((c, i) => {
    const color = colors[(i + 1) % colors.length];
    const at = [c.max, ...(c.min < 0 ? [c.min] : [])];
    return {
      type: 'line', name: c.calibrator === 'auto' ? `auto (→ ${c.methodUsed})` : c.calibrator, data: [], color,
      markLine: {
        symbol: 'none', silent: true,
        lineStyle: { color, width: 2, type: i % 2 ? 'dashed' : 'solid' },
        label: { show: true, formatter: '{b}', position: 'insideEndTop', fontSize: 10 },
        data: at.map(x => ({ xAxis: x, name: labels.get(`${x}:${i}`) ?? '' })),
      },
    };
  });
  const rangeLines = hist.calibrators.map(c => `<br>${esc(c.calibrator)}${c.calibrator === 'auto' ? ` (→ ${esc(c.methodUsed)})` : ''}: [${num(c.min)}, ${num(c.max)}]`).join('');
  return init(el, {
    grid: { left: 70, right: 30, top: 56, bottom: 64 },
    legend: { top: 0, type: 'scroll' },
    tooltip: {
      trigger: 'axis', confine: true,
      formatter: ps => {
        const p = ps.find(x => x.seriesIndex === 0);
        if (!p || p.dataIndex >= hist.counts.length) return '';
        const from = hist.start + p.dataIndex * hist.width;
        return `[${num(from)}, ${num(from + hist.width)}): ${hist.counts[p.dataIndex].toLocaleString('en')} values<br><i>ranges</i>${rangeLines}`;
      },
    },
    xAxis: { type: 'value', name: 'activation value', nameLocation: 'middle', nameGap: 30, scale: true },
    yAxis: { type: log ? 'log' : 'value', name: log ? 'count (log)' : 'count', min: log ? 1 : 0 },
    dataZoom: [{ type: 'inside', xAxisIndex: 0 }, { type: 'slider', xAxisIndex: 0, height: 16, bottom: 4 }],
    series: [
      { type: 'line', name: 'histogram', step: 'start', data, showSymbol: false, areaStyle: { opacity: 0.35 }, lineStyle: { width: 1 },
        color: colors[0], connectNulls: false },
      ...calibrators,
    ],
  }, hist.counts.length);
}
