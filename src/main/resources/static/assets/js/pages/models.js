import * as api from '../api.js';
import { button, busy, card, clear, deleteButton, dropZone, facts, field, fmt, h, link, metric, name, showError, table, uploadRow } from '../ui.js';
import { configLabel, paretoPanel, uploadsList } from '../views.js';

function opTypes(model, max = 4) {
  const entries = Object.entries(model.opTypes || {}).sort((a, b) => b[1] - a[1]);
  const all = entries.map(([k, v]) => `${k} ×${v}`).join(', ');
  const shown = entries.slice(0, max).map(([k, v]) => `${k} ×${v}`).join(', ') + (entries.length > max ? ', …' : '');
  return h('span.name', { title: all }, shown);
}

const io = list => h('div.io', (list || []).map(t => h('div', name(t.name), ' ', h('code', `${t.elementType} ${fmt.shape(t.shape)}`))));

export async function modelsPage(main) {
  const uploads = h('div.uploads', { 'aria-live': 'polite' });
  const nameInput = h('input', { type: 'text', placeholder: 'from the file name' });
  const listRegion = h('div');
  main.append(h('h1', 'Models'),
    card('Upload an ONNX model',
      h('div.row', dropZone('Choose an .onnx file', { accept: '.onnx', onFile: file => send(file) }), field('Name (optional)', nameInput)),
      uploads),
    card('All models', listRegion));

  const send = async file => {
    const row = uploadRow(file.name);
    uploads.prepend(row.el);
    const form = new FormData();
    form.append('file', file);
    if (nameInput.value.trim()) form.append('name', nameInput.value.trim());
    try {
      const m = await api.upload('models', form, row.progress);
      row.done('stored: ', link(`#/models/${m.id}`, m.name), ` (${m.quantizableNodes.length} quantizable nodes)`);
      nameInput.value = '';
      await refresh();
    } catch (e) {
      row.failed(e);
    }
  };

  const refresh = uploadsList(listRegion, 'models', 'model', [
    { label: 'Name', cell: m => link(`#/models/${m.id}`, name(m.name)) },
    { label: 'Inputs', cell: m => io(m.inputs) },
    { label: 'Opset', cell: m => String(m.opsetVersion), cls: 'num' },
    { label: 'Nodes', cell: m => String(m.nodeCount), cls: 'num' },
    { label: 'Quantizable', cell: m => String(m.quantizableNodes.length), cls: 'num' },
    { label: 'Op types', cell: m => opTypes(m) },
  ]);
  await refresh();
}

export async function modelPage(main, ctx, id) {
  const m = await api.get(`models/${id}`);
  const actions = h('div');
  const del = deleteButton('Delete model', `Delete model ${m.name}? Its jobs and reports stay.`, `models/${id}`, '#/models', actions, api.del);
  const download = button('Download', () => busy(download, actions, () => api.download(`models/${id}/content`, `${m.name}.onnx`)));
  main.append(
    h('div.title', h('h1', name(m.name)), h('div.buttons', link(`#/jobs/new?modelId=${id}`, 'Run a job…'), download, del)),
    actions,
    h('div.metrics', metric('Quantizable nodes', String(m.quantizableNodes.length)), metric('Nodes', String(m.nodeCount)),
      metric('Opset', String(m.opsetVersion)), metric('Size', fmt.bytes(m.sizeBytes))),
    h('div.grid2',
      card('Summary', facts([['Producer', m.producer || '–'], ['IR version', String(m.irVersion)], ['sha256', h('code.name', { title: m.sha256 }, m.sha256)],
        ['Uploaded', fmt.time(m.createdAt)], ['Inputs', io(m.inputs)], ['Outputs', io(m.outputs)]])),
      card('Op types', h('ul.chips', Object.entries(m.opTypes).sort((a, b) => b[1] - a[1]).map(([k, v]) => h('li', `${k} ×${v}`))),
        h('details', h('summary', `${m.quantizableNodes.length} quantizable nodes`),
          table([{ label: 'Node', cell: n => name(n.name) }, { label: 'Op', cell: n => n.opType }], m.quantizableNodes)))));
  const paretoRegion = h('div', h('p.muted', 'Loading reports…'));
  const reportsRegion = h('div');
  main.append(paretoRegion, reportsRegion);
  try {
    clear(paretoRegion, await paretoPanel(id));
    const reports = await api.get(`models/${id}/reports?sort=top1`);
    const picked = new Set();
    const compare = button('Compare selected', () => { location.hash = `#/compare?ids=${[...picked].join(',')}`; }, 'primary');
    compare.disabled = true;
    const pick = r => h('input', {
      type: 'checkbox', 'aria-label': `select report ${fmt.id(r.id)} for comparison`,
      onchange: e => { if (e.target.checked) picked.add(r.id); else picked.delete(r.id); compare.disabled = picked.size < 2; },
    });
    clear(reportsRegion, card(`Reports (${reports.length})`,
      h('p.muted.small', 'Every configuration measured for this model, best top-1 first. Tick two to compare them.'),
      h('div.toolbar', compare),
      table([
        { label: '', cell: pick },
        { label: 'Configuration', cell: r => link(`#/reports/${r.id}`, configLabel(r)) },
        { label: 'top-1', cell: r => fmt.pct(r.metrics?.top1), cls: 'num' },
        { label: 'Δ vs FP32', cell: r => fmt.pts(r.metrics?.accuracyDrop === undefined ? null : -r.metrics.accuracyDrop), cls: 'num' },
        { label: 'p50', cell: r => fmt.ms(r.metrics?.latencyP50Ms), cls: 'num' },
        { label: 'SQNR', cell: r => fmt.db(r.metrics?.sqnrDb), cls: 'num' },
        { label: 'Job', cell: r => link(`#/jobs/${r.jobId}`, fmt.id(r.jobId)) },
        { label: 'Measured', cell: r => fmt.time(r.createdAt) },
      ], reports, { empty: 'No reports yet.' })));
  } catch (e) {
    showError(reportsRegion, e);
  }
}
