import * as api from '../api.js';
import { button, card, clear, count, field, fmt, h, hashQuery, link, name, progressBar, select, showError, stateBadge, table } from '../ui.js';

const TYPES = ['evaluate', 'benchmark', 'ptq', 'sensitivity', 'auto_quantize', 'qat', 'compile_tensorrt'];
const STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** Model id → name, for lists. */
async function modelNames() {
  const page = await api.get('models?size=500');
  return new Map(page.items.map(m => [m.id, m.name]));
}

export async function jobsPage(main, ctx) {
  const q = hashQuery();
  const names = await modelNames();
  const state = select([['', 'any state'], ...STATES], q.get('state') || '', { id: 'filter-state' });
  const type = select([['', 'any type'], ...TYPES], q.get('type') || '', { id: 'filter-type' });
  const model = select([['', 'any model'], ...[...names].map(([id, n]) => [id, n])], q.get('modelId') || '', { id: 'filter-model' });
  let page = 0;
  const listRegion = h('div', { 'aria-live': 'off' });
  const pager = h('div.pager');
  const liveNote = h('span.muted.small');
  main.append(
    h('div.title', h('h1', 'Jobs'), h('div.buttons', link('#/jobs/new', 'New job…'))),
    card(null, h('div.toolbar.filters', field('State', state), field('Type', type), field('Model', model), liveNote), listRegion, pager));
  let timer = null;
  const refresh = async () => {
    clearTimeout(timer);
    const params = new URLSearchParams({ page: String(page), size: '50' });
    if (state.value) params.set('state', state.value);
    if (type.value) params.set('type', type.value);
    if (model.value) params.set('modelId', model.value);
    try {
      const res = await api.get(`jobs?${params}`);
      if (!ctx.alive) return;
      clear(listRegion, table([
        { label: 'Job', cell: j => link(`#/jobs/${j.id}`, h('span', h('strong', j.type), ' ', h('code', fmt.id(j.id)))) },
        { label: 'State', cell: j => stateBadge(j.state) },
        { label: 'Model', cell: j => link(`#/models/${j.modelId}`, name(names.get(j.modelId) || fmt.id(j.modelId))) },
        { label: 'Progress', cell: j => h('div.progress-cell', progressBar(j.progress?.fraction, `${j.type} ${fmt.id(j.id)} progress`), name(j.error?.message || j.progress?.message || '', 'name.small')) },
        { label: 'Submitted', cell: j => fmt.time(j.createdAt) },
        { label: 'Took', cell: j => fmt.duration(j.startedAt, j.finishedAt), cls: 'num' },
      ], res.items, { empty: 'No jobs match.', caption: count(res.total, 'job'), rowAttrs: j => ({ dataset: { id: j.id, type: j.type, state: j.state } }) }));
      const pages = Math.max(1, Math.ceil(res.total / res.size));
      const prev = button('← Newer', () => { page--; refresh(); });
      const next = button('Older →', () => { page++; refresh(); });
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
      clear(pager, prev, h('span', ` page ${page + 1} of ${pages} `), next);
      const active = res.items.some(j => !FINAL.has(j.state));
      liveNote.textContent = active ? 'live: refreshing every 2 s' : '';
      if (active && ctx.alive) timer = setTimeout(refresh, 2000);
    } catch (e) {
      showError(listRegion, e);
    }
  };
  ctx.onLeave(() => clearTimeout(timer));
  const onFilter = () => {
    page = 0;
    const p = new URLSearchParams();
    for (const [k, el] of [['state', state], ['type', type], ['modelId', model]]) if (el.value) p.set(k, el.value);
    history.replaceState(null, '', `#/jobs${p.toString() ? `?${p}` : ''}`);
    refresh();
  };
  [state, type, model].forEach(el => el.addEventListener('change', onFilter));
  await refresh();
}

// The form's config fields per job type: [types, path, label, control, options]. Empty means "the default".
const CALIBRATORS = ['max', 'percentile', 'entropy', 'mse', 'auto'];
const QUANTIZING = ['ptq', 'sensitivity', 'auto_quantize', 'qat'];
const FIELDS = [
  [QUANTIZING, 'activations.calibrator', 'Calibrator', 'select', CALIBRATORS, 'mse'],
  [QUANTIZING, 'activations.dtype', 'Activations', 'select', [['uint8', 'uint8 (ONNX Runtime CPU)'], ['int8', 'int8 symmetric (TensorRT)']], 'uint8'],
  [['ptq'], 'calibration.compareCalibrators', 'Compare every calibrator', 'checkbox'],
  [['ptq', 'sensitivity', 'auto_quantize'], 'calibration.maxSamples', 'Calibration samples', 'number', null, '512'],
  [['sensitivity'], 'metric', 'Metric', 'select', ['kl', 'top1', 'mse', 'cosine', 'sqnr'], 'kl'],
  [['sensitivity'], 'mode', 'Mode', 'select', ['only_this', 'all_but_this'], 'only_this'],
  [['sensitivity'], 'granularity', 'Granularity', 'select', ['node', 'op_type', 'block'], 'node'],
  [['auto_quantize'], 'maxAccuracyDrop', 'Max accuracy drop (0-1)', 'number', null, '0.01'],
  [['auto_quantize'], 'maxTrials', 'Max trials', 'number', null, '64'],
  [['auto_quantize'], 'timeBudgetSeconds', 'Time budget (s)', 'number', null, '900'],
  [['qat'], 'epochs', 'Epochs', 'number', null, '10'],
  [['qat'], 'fromJobId', 'Start from ptq job (id)', 'text', null, 'calibrate anew'],
  [['qat'], 'loss', 'Loss', 'select', ['auto', 'cross_entropy', 'distillation'], 'auto'],
  [['evaluate', 'ptq', 'auto_quantize', 'qat'], 'evaluation.maxSamples', 'Evaluation samples', 'number', null, 'all / 2000'],
  [['benchmark', 'ptq', 'auto_quantize'], 'benchmark.iterations', 'Benchmark iterations', 'number', null, '200'],
  [['benchmark'], 'benchmark.batchSize', 'Batch size', 'number', null, '1'],
];
const DATASETS = {
  evaluate: { evaluationDatasetId: true },
  benchmark: { evaluationDatasetId: false, calibrationDatasetId: false },
  ptq: { calibrationDatasetId: true, evaluationDatasetId: false },
  sensitivity: { calibrationDatasetId: true, evaluationDatasetId: false },
  auto_quantize: { calibrationDatasetId: true, evaluationDatasetId: true },
  qat: { trainingDatasetId: true, calibrationDatasetId: false, evaluationDatasetId: false },
};
const ROLE = { calibrationDatasetId: 'Calibration dataset', evaluationDatasetId: 'Evaluation dataset', trainingDatasetId: 'Training dataset' };

function setPath(obj, path, value) {
  const keys = path.split('.');
  let o = obj;
  keys.slice(0, -1).forEach(k => { o = o[k] ??= {}; });
  o[keys[keys.length - 1]] = value;
}

function merge(a, b) {
  for (const [k, v] of Object.entries(b)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && a[k] && typeof a[k] === 'object') merge(a[k], v);
    else a[k] = v;
  }
  return a;
}

export async function newJobPage(main) {
  const q = hashQuery();
  const [models, datasets] = await Promise.all([api.get('models?size=500'), api.get('datasets?size=500')]);
  const type = select(TYPES.filter(t => t !== 'compile_tensorrt'), q.get('type') || 'ptq', { id: 'job-type' });
  const model = select([['', '— choose a model —'], ...models.items.map(m => [m.id, `${m.name} (${m.quantizableNodes.length} quantizable)`])], q.get('modelId') || '', { id: 'job-model', required: true });
  const dsOptions = [['', '— none —'], ...datasets.items.map(d => [d.id, `${d.name} · ${d.format} · ${d.sampleCount} samples${d.hasLabels ? ' · labelled' : ''}`])];
  const roles = Object.fromEntries(Object.keys(ROLE).map(r => [r, select(dsOptions, q.get(r) || '', { id: `job-${r}` })]));
  const roleFields = Object.fromEntries(Object.entries(roles).map(([r, el]) => [r, field(ROLE[r], el)]));
  const controls = FIELDS.map(([types, path, label, kind, options, placeholder]) => {
    let el;
    if (kind === 'select') el = select([['', `default${placeholder ? ` (${placeholder})` : ''}`], ...options], '');
    else if (kind === 'checkbox') el = h('input', { type: 'checkbox' });
    else el = h('input', { type: kind === 'number' ? 'number' : 'text', step: 'any', placeholder: placeholder ? `default: ${placeholder}` : '' });
    el.dataset.path = path;
    const wrap = kind === 'checkbox' ? h('label.check', el, ` ${label}`) : field(label, el);
    return { types, path, kind, el, wrap };
  });
  const advanced = h('textarea', { rows: 4, spellcheck: false, placeholder: '{"exclude":{"opTypes":["MatMul"]}}' });
  const priority = h('input', { type: 'number', min: -1000, max: 1000, placeholder: '0' });
  const errors = h('div', { 'aria-live': 'assertive' });
  const submit = h('button.primary', { type: 'submit', id: 'submit-job' }, 'Submit job');
  const configRegion = h('div.config-fields');
  const datasetRegion = h('div.row');
  const layout = () => {
    const t = type.value;
    clear(datasetRegion, ...Object.entries(DATASETS[t] || {}).map(([r, required]) => {
      roles[r].required = required;
      roleFields[r].querySelector('label').textContent = `${ROLE[r]}${required ? '' : ' (optional)'}`;
      return roleFields[r];
    }));
    clear(configRegion, ...controls.filter(c => c.types.includes(t)).map(c => c.wrap));
  };
  type.addEventListener('change', layout);
  layout();
  const config = () => {
    const cfg = {};
    for (const c of controls.filter(x => x.types.includes(type.value))) {
      if (c.kind === 'checkbox') { if (c.el.checked) setPath(cfg, c.path, true); continue; }
      const v = c.el.value.trim();
      if (!v) continue;
      setPath(cfg, c.path, c.kind === 'number' ? Number(v) : v);
    }
    if (advanced.value.trim()) merge(cfg, JSON.parse(advanced.value));
    return cfg;
  };
  const form = h('form.job-form', {
    onsubmit: async e => {
      e.preventDefault();
      clear(errors);
      submit.disabled = true;
      try {
        let cfg;
        try { cfg = config(); } catch (err) { throw new Error(`Advanced config is not valid JSON: ${err.message}`); }
        const body = { type: type.value, modelId: model.value, config: cfg };
        for (const r of Object.keys(DATASETS[type.value] || {})) if (roles[r].value) body[r] = roles[r].value;
        if (priority.value) body.priority = Number(priority.value);
        const job = await api.post('jobs', body);
        location.hash = `#/jobs/${job.id}`;
      } catch (err) {
        showError(errors, err);
        submit.disabled = false;
      }
    },
  },
  h('div.row', field('Type', type), field('Model', model), field('Priority', priority)),
  datasetRegion,
  h('fieldset', h('legend', 'Configuration'), h('p.muted.small', 'Empty fields keep the service\'s defaults (README "Job config keys").'), configRegion,
    field('Advanced config (JSON, merged over the fields)', advanced)),
  errors,
  h('div.toolbar', submit));
  main.append(h('h1', 'New job'), card(null, form));
}
