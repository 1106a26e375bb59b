import * as api from '../api.js';
import * as charts from '../charts.js';
import { card, clear, facts, field, fmt, h, hashQuery, link, metric, name, select, showError, table } from '../ui.js';
import { configLabel, layerPanel, reportSelect } from '../views.js';

// How each known metric is shown, and which direction is better (for the colour of a delta).
const METRICS = {
  top1: ['top-1', fmt.pct, 1], top1Fp32: ['FP32 top-1', fmt.pct, 0], accuracyDrop: ['accuracy drop', fmt.pts, -1],
  agreement: ['agreement', fmt.pct, 1], sqnrDb: ['output SQNR', fmt.db, 1], cosine: ['cosine', v => fmt.num(v, 6), 1],
  kl: ['KL divergence', fmt.num, -1], mse: ['MSE', fmt.num, -1],
  latencyP50Ms: ['p50 latency', fmt.ms, -1], latencyP90Ms: ['p90 latency', fmt.ms, -1], latencyP99Ms: ['p99 latency', fmt.ms, -1],
  latencyMeanMs: ['mean latency', fmt.ms, -1], latencyFp32P50Ms: ['FP32 p50 latency', fmt.ms, 0], speedupP50: ['speed-up (p50)', fmt.x, 1],
  throughputPerSecond: ['throughput /s', fmt.num, 1], modelSizeBytes: ['model size', fmt.bytes, -1], fusedInt8Kernels: ['fused INT8 kernels', fmt.num, 0],
};
const rank = k => (k in METRICS ? Object.keys(METRICS).indexOf(k) : Object.keys(METRICS).length);
const metricName = k => METRICS[k]?.[0] || k;
const metricFmt = (k, v) => (METRICS[k]?.[1] || fmt.num)(v);

export async function reportPage(main, ctx, id) {
  const r = await api.get(`reports/${id}`);
  const job = await api.get(`jobs/${r.jobId}`).catch(() => null);
  const model = await api.get(`models/${r.modelId}`).catch(() => null);
  const m = r.metrics || {};
  const other = await reportSelect(r.modelId, '', { id: 'compare-with' });
  other.querySelector(`option[value="${id}"]`)?.remove();
  other.addEventListener('change', () => { if (other.value) location.hash = `#/compare?ids=${id},${other.value}`; });
  main.append(
    h('div.title', h('h1', 'Report ', h('code', fmt.id(r.id)), ' ', h('span.muted', configLabel(r)))),
    h('div.metrics',
      metric('top-1', fmt.pct(m.top1), m.accuracyDrop !== undefined ? `${fmt.pts(-m.accuracyDrop)} vs FP32 ${fmt.pct(m.top1Fp32)}` : null),
      metric('p50 latency', fmt.ms(m.latencyP50Ms), m.latencyFp32P50Ms ? `FP32 ${fmt.ms(m.latencyFp32P50Ms)}` : null),
      metric('Output SQNR', fmt.db(m.sqnrDb)), metric('Agreement', fmt.pct(m.agreement)), metric('Size', fmt.bytes(m.modelSizeBytes))));
  if (r.layers?.length) main.append(layerPanel(r));
  main.append(
    h('div.grid2',
      card('Where it comes from', facts([
        ['Model', model ? link(`#/models/${model.id}`, name(model.name)) : h('code', r.modelId)],
        ['Job', job ? link(`#/jobs/${job.id}`, `${job.type} ${fmt.id(job.id)}`) : h('code', r.jobId)],
        ['Measured', fmt.time(r.createdAt)], ['Config hash', h('code.name', { title: r.configHash }, r.configHash)],
        ['Runtime', r.runtime ? `${r.runtime.engine} ${r.runtime.engineVersion ?? ''} · ${r.runtime.executionProvider ?? ''} · ${r.runtime.threads ?? '?'} thread(s) · ${r.runtime.host ?? ''}` : '–'],
      ]), field('Compare with another report of this model', other)),
      card('All metrics', facts(Object.entries(m).sort(([a], [b]) => rank(a) - rank(b)).map(([k, v]) => [metricName(k), metricFmt(k, v)])))));
  main.append(card('Configuration', h('details', h('summary', 'The effective per-layer configuration (what the hash is computed from)'), h('pre.json', JSON.stringify(r.config, null, 2)))));
}

function deltaCell(key, delta) {
  if (delta === null || delta === undefined) return h('span.muted', '–');
  if (delta === 0) return h('span.muted', '±0');
  const better = METRICS[key]?.[2];
  const cls = !better ? '' : Math.sign(delta) === better ? 'better' : 'worse';
  const text = key === 'top1' || key === 'agreement' || key === 'top1Fp32' || key === 'accuracyDrop' ? fmt.pts(delta) : `${delta > 0 ? '+' : ''}${metricFmt(key, delta)}`;
  return h(`span.delta${cls ? '.' + cls : ''}`, text);
}

export async function comparePage(main) {
  const ids = (hashQuery().get('ids') || '').split(',').filter(Boolean);
  const models = (await api.get('models?size=500')).items;
  const first = ids[0] ? await api.get(`reports/${ids[0]}`).catch(() => null) : null;
  const modelSelect = select([['', '— choose a model —'], ...models.map(x => [x.id, x.name])], first?.modelId || '', { id: 'compare-model' });
  const pickers = h('div.row');
  const out = h('div', { 'aria-live': 'polite' });
  main.append(h('h1', 'Compare reports'),
    card(null, h('p.muted.small', 'Two configurations side by side: metric deltas (B − A) and the layers whose configuration differs.'),
      h('div.row', field('Model', modelSelect)), pickers),
    out);
  const go = (a, b) => { if (a && b) location.hash = `#/compare?ids=${a},${b}`; };
  const fillPickers = async (modelId, a, b) => {
    if (!modelId) { clear(pickers); return; }
    const sa = await reportSelect(modelId, a, { id: 'compare-a' });
    const sb = await reportSelect(modelId, b, { id: 'compare-b' });
    sa.addEventListener('change', () => go(sa.value, sb.value));
    sb.addEventListener('change', () => go(sa.value, sb.value));
    clear(pickers, field('Report A', sa), field('Report B', sb));
  };
  modelSelect.addEventListener('change', () => fillPickers(modelSelect.value));
  await fillPickers(first?.modelId, ids[0], ids[1]);
  if (ids.length < 2) {
    out.append(h('p.muted', 'Choose two reports.'));
    return;
  }
  try {
    const [cmp, a, b] = await Promise.all([api.get(`reports/compare?ids=${ids.join(',')}`), api.get(`reports/${ids[0]}`), api.get(`reports/${ids[1]}`)]);
    const head = (r, letter) => h('div', h('strong', `${letter}: `), link(`#/reports/${r.id}`, configLabel(r)), h('div.small.muted', `job ${fmt.id(r.jobId)} · ${fmt.time(r.createdAt)}`));
    const rows = Object.entries(cmp.metrics).map(([k, v]) => ({ k, v })).sort((x, y) => rank(x.k) - rank(y.k));
    out.append(
      card('Metrics', h('div.row', head(a, 'A'), head(b, 'B')),
        cmp.reports[1].sameConfigurationAsFirst ? h('p.note', 'Same configuration (equal config hash): the differences are measurement noise.') : null,
        table([
          { label: 'Metric', cell: x => metricName(x.k) },
          { label: 'A', cell: x => metricFmt(x.k, x.v.values[0]), cls: 'num' },
          { label: 'B', cell: x => metricFmt(x.k, x.v.values[1]), cls: 'num' },
          { label: 'B − A', cell: x => deltaCell(x.k, x.v.deltas[1]), cls: 'num' },
        ], rows)),
      card(`Layers configured differently (${cmp.layerDifferences.length})`,
        Object.keys(cmp.settingDifferences || {}).length ? facts(Object.entries(cmp.settingDifferences).map(([k, v]) => [k, JSON.stringify(v)])) : null,
        table([
          { label: 'Node', cell: d => name(d.node) },
          { label: 'A', cell: d => describe(d.configs[0]) },
          { label: 'B', cell: d => describe(d.configs[1]) },
        ], cmp.layerDifferences, { empty: 'Every layer is configured the same.' })));
    const la = new Map((a.layers || []).map(l => [l.node, l]));
    const lb = new Map((b.layers || []).map(l => [l.node, l]));
    const nodes = [...new Set([...la.keys(), ...lb.keys()])].filter(n => la.get(n)?.quantized || lb.get(n)?.quantized);
    if (nodes.some(n => la.get(n)?.sqnrDb != null || lb.get(n)?.sqnrDb != null)) {
      const box = charts.chartBox('Per-layer SQNR of both reports', 'layers');
      out.append(card('Per-layer SQNR, A and B', box));
      requestAnimationFrame(() => charts.bars(box, {
        valueName: 'SQNR A (dB)',
        rows: nodes.map(n => ({ name: n, value: la.get(n)?.sqnrDb ?? null, detail: { 'calibrator A': la.get(n)?.activationCalibrator ?? '–', 'calibrator B': lb.get(n)?.activationCalibrator ?? '–' } })),
        more: [{ name: 'SQNR B (dB)', values: nodes.map(n => lb.get(n)?.sqnrDb ?? null) }],
      }));
    }
  } catch (e) {
    showError(out, e);
  }
}

function describe(c) {
  if (!c) return h('span.muted', 'absent');
  if (c.quantized === false) return 'float';
  return [c.quantized ? 'int8' : '', c.activationCalibrators?.length ? ` · ${c.activationCalibrators.join(', ')}` : ''].join('') || JSON.stringify(c);
}
