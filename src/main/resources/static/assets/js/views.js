// Chart panels shared by the job, report and model pages.
import * as api from './api.js';
import * as charts from './charts.js';
import { card, clear, count, field, fmt, h, link, name, select, showError, table } from './ui.js';

/**
 * The list of all models or datasets ("models", "model"): a table whose rows carry data-id, the size and upload time
 * last. Returns the function that reloads it.
 */
export function uploadsList(region, kind, noun, columns) {
  const load = async () => {
    try {
      const page = await api.get(`${kind}?size=200`);
      clear(region, table([...columns,
        { label: 'Size', cell: x => fmt.bytes(x.sizeBytes), cls: 'num' },
        { label: 'Uploaded', cell: x => fmt.time(x.createdAt) },
      ], page.items, { empty: `No ${kind} yet: upload one above.`, caption: count(page.total, noun), rowAttrs: x => ({ dataset: { id: x.id } }) }));
    } catch (e) {
      showError(region, e);
    }
  };
  return load;
}

/** A short description of a report's configuration (for tooltips and lists). */
export function configLabel(report) {
  const c = report.config || {};
  if (c.precision === 'fp32') return 'FP32';
  const layers = Object.values(c.layers || {});
  const float = layers.filter(l => l.quantized === false).length;
  const calibrators = new Set(layers.flatMap(l => l.activationCalibrators || []));
  const calibrator = c.calibrator || (calibrators.size === 1 ? [...calibrators][0] : calibrators.size ? 'mixed' : null);
  const parts = [c.qat ? 'QAT int8' : (c.precision || 'int8')];
  if (c.probe) parts.push(`probe ${c.probe.mode?.replace('_', ' ')} ${c.probe.group}`);
  if (calibrator) parts.push(calibrator);
  if (float && !c.probe) parts.push(`${float} float`);
  return parts.join(' · ');
}

/** A table of the chart's data below it, for keyboard and screen-reader users. */
function dataTable(summary, columns, rows) {
  return h('details.data', h('summary', summary), table(columns, rows));
}

const LAYER_METRICS = [
  ['sqnrDb', 'SQNR (dB)'],
  ['amax', 'activation amax'],
  ['weightAmax', 'weight amax'],
];

/**
 * Per-layer chart of a report: one bar per quantized layer in graph order (the report's layer order),
 * SQNR of its quantized input by default.
 */
export function layerPanel(report) {
  const layers = report.layers.filter(l => l.quantized);
  const box = charts.chartBox(`Per-layer chart of ${layers.length} quantized layers`, 'layers');
  box.dataset.layers = String(layers.length);
  const hasSqnr = layers.some(l => l.sqnrDb !== null && l.sqnrDb !== undefined);
  const metricSelect = select(LAYER_METRICS, hasSqnr ? 'sqnrDb' : 'amax', { 'aria-controls': 'layer-chart' });
  const note = h('p.muted.small');
  const draw = () => {
    const key = metricSelect.value;
    const label = LAYER_METRICS.find(m => m[0] === key)[1];
    const missing = layers.filter(l => l[key] === null || l[key] === undefined).length;
    note.textContent = missing ? `${missing} of ${layers.length} layers have no ${label}${key === 'sqnrDb' ? ' (a layer reading the model input, or a configuration measured without per-layer SQNR)' : ''}.` : '';
    charts.bars(box, {
      valueName: label,
      rows: layers.map(l => ({
        name: l.node, value: l[key],
        detail: { op: l.opType, calibrator: l.activationCalibrator ?? '–', amax: l.amax ?? '–', 'SQNR dB': l.sqnrDb ?? '–', weights: l.weightGranularity ?? '–' },
      })),
    });
  };
  metricSelect.addEventListener('change', draw);
  box.id = 'layer-chart';
  requestAnimationFrame(draw);
  return card(`Per layer (${layers.length} quantized of ${report.layers.length})`,
    h('div.toolbar', field('Metric', metricSelect)), box, note,
    dataTable('Layers as a table', [
      { label: '#', cell: l => String(report.layers.indexOf(l) + 1), cls: 'num' },
      { label: 'Node', cell: l => name(l.node) },
      { label: 'Op', cell: l => l.opType },
      { label: 'Quantized', cell: l => (l.quantized ? 'yes' : h('span', { title: l.reason || '' }, 'no')) },
      { label: 'Calibrator', cell: l => l.activationCalibrator ?? '–' },
      { label: 'amax', cell: l => fmt.num(l.amax), cls: 'num' },
      { label: 'SQNR', cell: l => fmt.db(l.sqnrDb), cls: 'num' },
    ], report.layers));
}

/** Accuracy × latency of every report of a model; the Pareto front highlighted; a click opens the report. */
export async function paretoPanel(modelId, { title = 'Accuracy × latency' } = {}) {
  const [all, front] = await Promise.all([api.get(`models/${modelId}/reports`), api.get(`models/${modelId}/reports?pareto=true`)]);
  const onFront = new Set(front.map(r => r.id));
  const measured = all.filter(r => typeof r.metrics?.top1 === 'number' && typeof r.metrics?.latencyP50Ms === 'number');
  const box = charts.chartBox(`Top-1 against p50 latency of ${measured.length} reports; ${front.length} on the Pareto front`, 'pareto');
  box.dataset.front = String(front.length);
  const points = measured.map(r => ({
    id: r.id, x: r.metrics.latencyP50Ms, y: r.metrics.top1, front: onFront.has(r.id), label: configLabel(r),
    detail: { report: fmt.id(r.id), job: fmt.id(r.jobId), measured: fmt.time(r.createdAt) },
  }));
  const body = card(title);
  if (!measured.length) {
    body.append(h('p.muted', 'No report of this model has both top-1 and latency yet: run a ptq or auto_quantize job with an evaluation set.'));
    return body;
  }
  body.append(h('p.muted.small', `${measured.length} configurations with top-1 and latency (of ${all.length} reports); `,
    `${front.length} on the Pareto front (no other is both more accurate and faster). Click a point to open its report.`), box,
  dataTable('Points as a table', [
    { label: 'Configuration', cell: p => link(`#/reports/${p.id}`, p.label) },
    { label: 'top-1', cell: p => fmt.pct(p.y), cls: 'num' },
    { label: 'p50', cell: p => fmt.ms(p.x), cls: 'num' },
    { label: 'Pareto', cell: p => (p.front ? 'yes' : '') },
  ], [...points].sort((a, b) => a.x - b.x)));
  requestAnimationFrame(() => charts.pareto(box, { points, onClick: p => { location.hash = `#/reports/${p.id}`; } }));
  return body;
}

const SENSITIVITY_METRICS = {
  score: { label: r => `score (${r.metric})`, value: l => l.score, worse: 'high' },
  kl: { label: () => 'KL divergence', value: l => l.kl, worse: 'high' },
  sqnrDb: { label: () => 'output SQNR (dB)', value: l => l.sqnrDb, worse: 'low' },
  disagreement: { label: () => '1 − agreement', value: l => (l.agreement === undefined ? null : 1 - l.agreement), worse: 'high' },
  top1Drop: { label: () => 'top-1 drop', value: l => l.top1Drop ?? null, worse: 'high' },
};

/** Sensitivity ranking: a bar per layer (or group), most damaging first, by a selectable metric. */
export function sensitivityPanel(result) {
  const available = Object.entries(SENSITIVITY_METRICS).filter(([, m]) => result.layers.some(l => m.value(l) !== null && m.value(l) !== undefined));
  const metricSelect = select(available.map(([k, m]) => [k, m.label(result)]), 'score', { 'aria-controls': 'sensitivity-chart' });
  const box = charts.chartBox(`Sensitivity of ${result.layers.length} layers`, 'sensitivity');
  box.id = 'sensitivity-chart';
  const draw = () => {
    const m = SENSITIVITY_METRICS[metricSelect.value];
    const rows = result.layers.map(l => ({ l, v: m.value(l) })).filter(r => r.v !== null && r.v !== undefined)
      .sort((a, b) => (m.worse === 'high' ? b.v - a.v : a.v - b.v));
    charts.bars(box, {
      valueName: m.label(result), color: charts.colors[1],
      rows: rows.map(({ l, v }) => ({ name: l.node, value: v, detail: { op: l.opType, 'top-1': l.top1 ?? '–', nodes: l.nodes ? l.nodes.length : 1 } })),
    });
  };
  metricSelect.addEventListener('change', draw);
  requestAnimationFrame(draw);
  return card(`Sensitivity ranking (${result.mode?.replace('_', ' ')}, ${result.granularity})`,
    h('p.muted.small', result.mode === 'all_but_this'
      ? 'Each bar: everything quantized except this layer; most damaging first.'
      : 'Each bar: only this layer quantized; most damaging first.',
    result.rankCorrelationWithTop1 !== undefined ? ` Rank correlation of ${result.metric} with the top-1 drop: ${fmt.num(result.rankCorrelationWithTop1, 3)}.` : '',
    result.top1NoiseFloor !== undefined ? ` Top-1 differences below ${fmt.pts(result.top1NoiseFloor)} are noise.` : ''),
    h('div.toolbar', field('Rank by', metricSelect)), box,
    dataTable('Ranking as a table', [
      { label: 'Node', cell: l => name(l.node) },
      { label: 'Op', cell: l => l.opType },
      { label: 'Score', cell: l => fmt.num(l.score), cls: 'num' },
      { label: 'KL', cell: l => fmt.num(l.kl), cls: 'num' },
      { label: 'SQNR', cell: l => fmt.db(l.sqnrDb), cls: 'num' },
      { label: 'top-1 drop', cell: l => fmt.pts(l.top1Drop), cls: 'num' },
    ], result.layers));
}

/** ptq with compareCalibrators: each calibrator's accuracy (or agreement) and output SQNR from the same histograms. */
export function calibratorPanel(result) {
  const rows = result.calibrators || [];
  const box = charts.chartBox(`Comparison of ${rows.length} calibrators`, 'calibrators');
  const labelled = rows.some(r => r.top1 !== undefined && r.top1 !== null);
  requestAnimationFrame(() => charts.grouped(box, {
    categories: rows.map(r => r.calibrator), highlight: result.calibrator,
    left: { name: labelled ? 'INT8 top-1' : 'agreement', values: rows.map(r => (labelled ? r.top1 : r.agreement)), percent: true },
    right: { name: 'output SQNR (dB)', values: rows.map(r => r.sqnrDb) },
  }));
  return card('Calibrators compared',
    h('p.muted.small', `Every calibrator computed from the same histograms; ★ ${result.calibrator} was kept (best ${labelled ? 'top-1' : 'agreement'}, SQNR breaks ties).`),
    box,
    table([
      { label: 'Calibrator', cell: r => (r.calibrator === result.calibrator ? h('strong', `${r.calibrator} ★`) : r.calibrator) },
      { label: 'top-1', cell: r => fmt.pct(r.top1), cls: 'num' },
      { label: 'agreement', cell: r => fmt.pct(r.agreement), cls: 'num' },
      { label: 'SQNR', cell: r => fmt.db(r.sqnrDb), cls: 'num' },
      { label: 'cosine', cell: r => fmt.num(r.cosine, 6), cls: 'num' },
    ], rows));
}

/** An activation's histogram from a histograms artifact, with each calibrator's range marked. */
export async function histogramPanel(artifactId, { activations = 'uint8', percentile = 99.99 } = {}) {
  const listing = await api.get(`artifacts/${artifactId}/histograms`);
  // first shown: the most heavy-tailed tensor (largest max |x| over mean |x|), where the calibrators disagree most
  const tail = t => (t.mean ? t.absMax / Math.abs(t.mean) : 0);
  const first = [...listing.tensors].sort((a, b) => tail(b) - tail(a))[0];
  const tensorSelect = select(listing.tensors.map(t => [t.name, t.name]), first?.name, { 'aria-controls': 'histogram-chart' });
  const logBox = h('input', { type: 'checkbox', checked: true });
  const box = charts.chartBox('Activation histogram with calibrator ranges', 'histogram');
  box.id = 'histogram-chart';
  const stats = h('div.small');
  const region = h('div');
  let hist = null;
  const draw = () => hist && charts.histogram(box, { hist, log: logBox.checked });
  const load = async () => {
    try {
      hist = await api.get(`artifacts/${artifactId}/histograms/tensor?name=${encodeURIComponent(tensorSelect.value)}&activations=${activations}&percentile=${percentile}&bars=256`);
      clear(region);
      clear(stats, `${hist.stats.count.toLocaleString('en')} values over ${listing.samples} samples, min ${fmt.num(hist.stats.min)}, max ${fmt.num(hist.stats.max)}, mean ${fmt.num(hist.stats.mean)}`,
        hist.stats.nanCount || hist.stats.infCount ? `, ${hist.stats.nanCount} NaN, ${hist.stats.infCount} ±Inf` : '', '.');
      draw();
      clear(ranges, table([
        { label: 'Calibrator', cell: c => (c.calibrator === 'auto' ? `auto (→ ${c.methodUsed})` : c.calibrator) },
        { label: 'min', cell: c => fmt.num(c.min), cls: 'num' },
        { label: 'max', cell: c => fmt.num(c.max), cls: 'num' },
        { label: 'amax', cell: c => fmt.num(c.amax), cls: 'num' },
        { label: 'expected MSE', cell: c => c.expectedMse.toExponential(3), cls: 'num' },
      ], hist.calibrators));
    } catch (e) {
      showError(region, e);
    }
  };
  const ranges = h('div');
  tensorSelect.addEventListener('change', load);
  logBox.addEventListener('change', draw);
  load();
  return card('Activation histograms',
    h('p.muted.small', `From the calibration pass (${listing.tensors.length} tensors, ${listing.bins} bins, ${activations === 'int8' ? 'int8 symmetric' : 'uint8 asymmetric'} ranges). The lines mark where each calibrator clips.`),
    h('div.toolbar', field('Tensor', tensorSelect), h('label.check', logBox, ' log counts')), region, box, stats,
    h('details.data', h('summary', 'Ranges as a table'), ranges));
}

/** Parses the QAT progress line "epoch 1/2 step 37/94 loss 0.61 acc 0.80 lr 0.000987". */
function qatStep(message) {
  const m = /epoch (\d+)\/(\d+) step (\d+)\/(\d+) loss ([-\d.e+]+)(?: acc ([\d.]+))? lr ([-\d.e+]+)/.exec(message || '');
  if (!m) return null;
  const [, epoch, , step, steps, loss, acc, lr] = m;
  return { x: +epoch - 1 + +step / +steps, loss: +loss, acc: acc === undefined ? null : +acc, lr: +lr };
}

/**
 * QAT training curves: loss, running accuracy and LR over the epochs. A finished job's result has the curve
 * (result.steps, at most 100 samples per epoch); while it runs, the points come from its live progress.
 */
export function qatPanel(job) {
  const live = [];
  const box = charts.chartBox('QAT loss, accuracy and learning rate', 'qat');
  const note = h('p.muted.small');
  const draw = () => {
    const r = job.result || {};
    const stored = (r.steps || []).map(s => ({ x: s.epoch - 1 + s.step / s.steps, loss: s.loss, acc: s.runningTop1 ?? null, lr: s.lr }));
    const epochs = (r.epochs || []).map(e => ({ x: e.epoch, loss: e.loss, acc: e.runningTop1 ?? null, lr: e.lr }));
    const points = stored.length ? stored : live.length ? live : epochs;
    note.textContent = stored.length ? `${stored.length} points: the mean loss of each window of steps, the epoch's running accuracy so far, the LR.`
      : live.length ? `${live.length} steps seen live on this page (sampled at the worker's heartbeat).`
        : epochs.length ? 'One point per epoch (epoch means).' : 'Waiting for the first training step…';
    const series = [{ name: 'loss', data: points.map(p => [p.x, p.loss]) }];
    if (points.some(p => p.acc !== null)) series.push({ name: 'running accuracy', data: points.filter(p => p.acc !== null).map(p => [p.x, p.acc]) });
    series.push({ name: 'learning rate', data: points.map(p => [p.x, p.lr]) });
    series.forEach((x, i) => { x.axis = i; });
    charts.lines(box, { xName: 'epoch', series, axes: series.map(x => ({ name: x.name })) });
    box.dataset.steps = String(points.length);
  };
  requestAnimationFrame(draw);
  const el = card('Training', note, box);
  return {
    el,
    progress(p) {
      const s = p.phase === 'train' ? qatStep(p.message) : null;
      if (s && (!live.length || s.x > live[live.length - 1].x)) {
        live.push(s);
        draw();
      }
    },
    update(j) { job = j; draw(); },
  };
}

/** A select of a model's reports (for compare). */
export async function reportSelect(modelId, selected, attrs = {}) {
  const reports = await api.get(`models/${modelId}/reports`);
  return select([['', '— choose a report —'], ...reports.map(r => [r.id, `${configLabel(r)} · top-1 ${fmt.pct(r.metrics?.top1)} · ${fmt.id(r.id)}`])], selected, attrs);
}
