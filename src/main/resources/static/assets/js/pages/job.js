import * as api from '../api.js';
import { button, busy, card, clear, facts, fmt, h, link, metric, name, progressBar, setProgress, showError, stateBadge, table } from '../ui.js';
import { calibratorPanel, configLabel, histogramPanel, layerPanel, paretoPanel, qatPanel, sensitivityPanel } from '../views.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

async function datasetLink(id) {
  if (!id) return null;
  try {
    const d = await api.get(`datasets/${id}`);
    return link(`#/datasets/${id}`, name(d.name));
  } catch {
    return h('code', fmt.id(id));
  }
}

/** Anything not rendered specially: one fact per key, nested objects flattened one level. */
function genericResult(result) {
  const pairs = [];
  for (const [k, v] of Object.entries(result || {})) {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) pairs.push([`${k}.${k2}`, typeof v2 === 'object' ? JSON.stringify(v2) : fmt.num(v2)]);
    } else if (Array.isArray(v)) {
      pairs.push([k, v.length && typeof v[0] === 'object' ? `${v.length} entries` : v.join(', ')]);
    } else {
      pairs.push([k, fmt.num(v)]);
    }
  }
  return facts(pairs);
}

function warnings(result) {
  return result?.warnings?.length ? h('div.note', { role: 'note' }, h('strong', 'Warnings'), h('ul', result.warnings.map(w => h('li', w)))) : null;
}

async function ptqResult(job, r) {
  const d = r.quantized?.top1 !== undefined && r.fp32?.top1 !== undefined && r.quantized.top1 !== null ? r.quantized.top1 - r.fp32.top1 : null;
  const out = [
    h('div.metrics',
      metric('INT8 top-1', fmt.pct(r.quantized?.top1), d === null ? null : `${fmt.pts(d)} vs FP32 ${fmt.pct(r.fp32.top1)}`),
      metric('Agreement', fmt.pct(r.quantized?.agreement), 'same top class as FP32'),
      metric('Output SQNR', fmt.db(r.quantized?.sqnrDb)),
      metric('p50 latency', fmt.ms(r.quantized?.latencyMs?.p50), `FP32 ${fmt.ms(r.fp32?.latencyMs?.p50)}`),
      metric('Speed-up', fmt.x(r.speedupP50), 'p50, FP32 / INT8'),
      metric('Size', fmt.bytes(r.quantized?.modelSizeBytes))),
    card('Quantization', facts([
      ['Mode', r.mode], ['Target', r.target], ['Task', r.task],
      ['Calibrator', r.calibrator ?? '– (calibration-free)'], ['Activations', r.activations], ['Quantized nodes', `${r.quantizedNodes} (${r.skippedNodes} skipped)`],
      ['Fused INT8 kernels', fmt.num(r.fusedInt8Kernels)], ['7-bit weights', r.reduceRangeWeights ? 'yes (no VNNI on this CPU)' : 'no'],
      ['Calibration samples', fmt.num(r.calibrationSamples)], ['Preparation', (r.preparation || []).join('; ') || '–'],
      ['Optimized graph', h('ul.chips', Object.entries(r.optimizedGraphOps || {}).map(([k, v]) => h('li', `${k} ×${v}`)))],
    ])),
  ];
  if ((r.calibrators || []).length > 1) out.push(calibratorPanel(r));
  if (r.reportId) out.push(layerPanel(await api.get(`reports/${r.reportId}`)));
  if (r.histogramsArtifactId) {
    out.push(await histogramPanel(r.histogramsArtifactId, { activations: job.config?.activations?.dtype || 'uint8', percentile: job.config?.activations?.percentile ?? 99.99 }));
  }
  return out;
}

async function autoResult(job, r) {
  const reports = await api.get(`jobs/${job.id}/reports`);
  return [
    h('div.note', { role: 'note' }, h('strong', r.budgetMet ? 'Budget met. ' : 'Budget not met. '), r.statement, r.stoppedBecause ? ` (stopped: ${r.stoppedBecause})` : ''),
    h('div.metrics',
      metric('Best top-1', fmt.pct(r.best?.top1), `FP32 ${fmt.pct(r.fp32?.top1)}`),
      metric('Best p50', fmt.ms(r.best?.latencyMs?.p50), `FP32 ${fmt.ms(r.fp32?.latencyMs?.p50)}`),
      metric('Kept in float', String(r.best?.floatNodes?.length ?? 0)),
      metric('Trials', String(r.trials), r.resumedTrials ? `${r.resumedTrials} resumed` : null)),
    h('p', `Best: ${r.best?.precision === 'fp32' ? 'the FP32 model (nothing quantized within the budget is faster)' : `${r.best?.precision} (${r.best?.mode})`}. `,
      r.best?.reportId ? link(`#/reports/${r.best.reportId}`, 'Open the best configuration\'s report') : null,
      !r.best?.reportId && r.bestQuantized?.reportId
        ? link(`#/reports/${r.bestQuantized.reportId}`, `Open the best quantized configuration's report (${r.bestQuantized.mode}, ${fmt.x(r.bestQuantized.speedupP50)})`) : null),
    r.best?.floatNodes?.length ? card('Layers kept in float', h('ul.chips', r.best.floatNodes.map(n => h('li', name(n))))) : null,
    await paretoPanel(job.modelId, { title: 'Accuracy × latency of every report of this model' }),
    card('Trials', table([
      { label: 'Configuration', cell: t => link(`#/reports/${t.id}`, configLabel(t)) },
      { label: 'top-1', cell: t => fmt.pct(t.metrics?.top1), cls: 'num' },
      { label: 'p50', cell: t => fmt.ms(t.metrics?.latencyP50Ms), cls: 'num' },
      { label: 'Pareto', cell: t => ((r.paretoReportIds || []).includes(t.id) ? 'yes' : '') },
    ], reports)),
  ];
}

function qatResult(job, r, panel) {
  panel.update(job);
  return [
    h('div.metrics',
      metric('After QAT', fmt.pct(r.after?.top1), r.top1Change !== undefined ? `${fmt.pts(r.top1Change)} vs PTQ` : null),
      metric('PTQ start', fmt.pct(r.before?.top1)),
      metric('FP32', fmt.pct(r.fp32?.top1)),
      metric('p50 latency', fmt.ms(r.after?.latencyMs?.p50), `FP32 ${fmt.ms(r.fp32?.latencyMs?.p50)}`),
      metric('Training', `${fmt.num(r.trainingImagesPerSecond, 3)} img/s`, fmt.seconds(r.trainingSeconds || 0))),
    panel.el,
    card('Recipe', facts([['Loss', r.loss], ['BatchNorm', r.batchNorm], ['Calibrator', r.calibrator], r.fromJobId ? ['From ptq job', link(`#/jobs/${r.fromJobId}`, fmt.id(r.fromJobId))] : null,
      ...Object.entries(r.recipe || {}).map(([k, v]) => [k, fmt.num(v)])])),
    card('Epochs', table([
      { label: 'Epoch', cell: e => String(e.epoch), cls: 'num' },
      { label: 'Mean loss', cell: e => fmt.num(e.loss), cls: 'num' },
      { label: 'Running top-1', cell: e => fmt.pct(e.runningTop1), cls: 'num' },
      { label: 'LR at end', cell: e => fmt.num(e.lr), cls: 'num' },
      { label: 'Images/s', cell: e => fmt.num(e.imagesPerSecond, 3), cls: 'num' },
    ], r.epochs || [])),
  ];
}

async function renderResult(job, qat) {
  const r = job.result;
  if (!r) return [];
  switch (job.type) {
    case 'evaluate':
      return [h('div.metrics', metric('top-1', fmt.pct(r.top1)), metric('Samples', fmt.num(r.samples)), metric('Correct', fmt.num(r.correct)))];
    case 'benchmark':
      return [h('div.metrics', metric('p50', fmt.ms(r.latencyMs?.p50)), metric('p90', fmt.ms(r.latencyMs?.p90)), metric('p99', fmt.ms(r.latencyMs?.p99)),
        metric('mean', fmt.ms(r.latencyMs?.mean)), metric('Throughput', `${fmt.num(r.throughputPerSecond, 4)} /s`, `batch ${r.batchSize}, ${r.threads} thread(s), ${r.iterations} iterations`))];
    case 'ptq':
      return ptqResult(job, r);
    case 'sensitivity':
      return [h('div.metrics', metric('Probes', String(r.probes)), metric('Metric', r.metric), metric('Most sensitive', name(r.layers?.[0]?.node || '–'), r.layers?.[0]?.opType, true)), sensitivityPanel(r)];
    case 'auto_quantize':
      return autoResult(job, r);
    case 'qat':
      return qatResult(job, r, qat);
    default:
      return [card('Result', genericResult(r))];
  }
}

export async function jobPage(main, ctx, id) {
  let job = await api.get(`jobs/${id}`);
  const model = await api.get(`models/${job.modelId}`).catch(() => null);
  const [calib, evalSet, train] = await Promise.all([datasetLink(job.calibrationDatasetId), datasetLink(job.evaluationDatasetId), datasetLink(job.trainingDatasetId)]);
  const badge = h('span');
  const actions = h('div');
  const cancel = button('Cancel', () => busy(cancel, actions, async () => { job = await api.post(`jobs/${id}/cancel`); show(); }), 'danger');
  const retry = button('Retry', () => busy(retry, actions, async () => { job = await api.post(`jobs/${id}/retry`); show(); follow(); }));
  const bar = progressBar(job.progress?.fraction, 'job progress');
  const phase = h('span.phase');
  const message = h('span.message');
  const errorRegion = h('div');
  const resultRegion = h('div.result', { 'aria-live': 'polite' });
  const artifactsRegion = h('div');
  const logList = h('ol.log', { 'aria-label': 'job log' });
  const logBox = h('div.log-box', { tabindex: '0', role: 'log', 'aria-live': 'polite' }, logList);
  const timing = h('div');
  const qat = job.type === 'qat' ? qatPanel(job) : null;
  main.append(
    h('div.title', h('h1', `${job.type} job `, h('code', fmt.id(job.id)), ' ', badge), h('div.buttons', cancel, retry)),
    actions,
    card(null, facts([
      ['Model', model ? link(`#/models/${model.id}`, name(model.name)) : h('code', job.modelId)],
      calib ? ['Calibration', calib] : null, evalSet ? ['Evaluation', evalSet] : null, train ? ['Training', train] : null,
      ['Time', timing], ['Job id', h('code', job.id)],
    ]), h('details', h('summary', 'Configuration (with defaults)'), h('pre.json', JSON.stringify(job.config, null, 2)))),
    card('Progress', h('div.progress-line', bar, h('div', phase, ' ', message))),
    errorRegion, resultRegion, artifactsRegion,
    card('Log', logBox));

  let shownState = null; // the state whose page is shown (the result is rendered once per final state)
  const show = () => {
    shownState = job.state;
    clear(badge, stateBadge(job.state));
    cancel.hidden = FINAL.has(job.state);
    retry.hidden = !['failed', 'cancelled'].includes(job.state);
    setProgress(bar, job.progress?.fraction);
    phase.textContent = job.progress?.phase || '';
    message.textContent = job.progress?.message || '';
    clear(timing, `submitted ${fmt.time(job.createdAt)}`, job.startedAt ? `, started ${fmt.time(job.startedAt)}` : '',
      job.finishedAt ? `, finished ${fmt.time(job.finishedAt)} (${fmt.duration(job.startedAt, job.finishedAt)})` : '',
      ` · attempt ${job.attempts} of ${job.maxAttempts}`, job.workerId ? ` · worker ${fmt.id(job.workerId)}` : '');
    clear(errorRegion, job.error ? h('div.error', { role: 'alert' }, h('strong', `${job.error.code}: `), job.error.message) : null);
  };

  const showResult = async () => {
    if (job.state !== 'succeeded') {
      clear(resultRegion, qat && !FINAL.has(job.state) ? qat.el : null);
      clear(artifactsRegion);
      return;
    }
    try {
      clear(resultRegion, h('h2', 'Result'), warnings(job.result), ...(await renderResult(job, qat)));
    } catch (e) {
      showError(resultRegion, e);
    }
    clear(artifactsRegion, card('Artifacts', table([
      { label: 'Kind', cell: a => a.kind },
      { label: 'File', cell: a => name(a.name) },
      { label: 'Size', cell: a => fmt.bytes(a.sizeBytes), cls: 'num' },
      { label: '', cell: a => { const b = button(`Download ${a.name}`, () => busy(b, artifactsRegion, () => api.download(`artifacts/${a.id}/content`, a.name))); return b; } },
    ], job.artifacts || [], { empty: 'This job stored no files.' })),
    job.reportIds?.length ? card(`Reports (${job.reportIds.length})`, h('ul.chips', job.reportIds.map(r => h('li', link(`#/reports/${r}`, fmt.id(r)))))) : null);
  };

  const atBottom = () => logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 40;
  const addLog = line => {
    const stick = atBottom();
    logList.append(h(`li.${(line.level || 'info').toLowerCase()}`, h('time', { datetime: line.ts }, new Date(line.ts).toLocaleTimeString('en-GB')), ' ', line.message));
    if (stick) logBox.scrollTop = logBox.scrollHeight;
  };

  let stream = null;
  const follow = () => {
    stream?.stop();
    clear(logList);
    stream = api.followJob(id, {
      onLog: addLog,
      onProgress: p => {
        job.progress = p;
        setProgress(bar, p.fraction);
        phase.textContent = p.phase || '';
        message.textContent = p.message || '';
        qat?.progress(p);
      },
      onState: async s => {
        if (s.state === shownState) return;
        job = await api.get(`jobs/${id}`);
        if (!ctx.alive) return;
        show();
        await showResult();
      },
      onEnd: e => e && showError(errorRegion, e),
    });
  };
  ctx.onLeave(() => stream?.stop());
  show();
  await showResult();
  follow();
}
