import * as api from '../api.js';
import { button, card, clear, deleteButton, dropZone, errorBox, facts, field, fmt, h, link, metric, name, select, uploadRow } from '../ui.js';
import { uploadsList } from '../views.js';

const IMAGENET = { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], layout: 'nchw', channelOrder: 'rgb' };

/** A grid of decoded samples, spread over the dataset (what the model is fed, preprocessing undone). */
function previewGrid(dataset, count = 8) {
  const grid = h('div.previews', { 'aria-live': 'polite' });
  const n = Math.min(count, dataset.sampleCount);
  const indexes = [...new Set(Array.from({ length: n }, (_, i) => Math.floor((i * dataset.sampleCount) / n)))];
  (async () => {
    for (const i of indexes) {
      try {
        const { url, headers } = await api.blob(`datasets/${dataset.id}/samples/${i}/preview.png`);
        const label = headers.get('X-Sample-Label');
        const cls = label !== null && dataset.classNames ? dataset.classNames[+label] : label;
        grid.append(h('figure', h('img', { src: url, alt: `sample ${i}${cls !== null ? `, label ${cls}` : ''}` }),
          h('figcaption', `#${i}`, cls !== null ? ` · ${cls}` : '')));
      } catch (e) {
        clear(grid, errorBox(e));
        return;
      }
    }
  })();
  return grid;
}

function tensors(d) {
  return h('div.io', d.tensors.map(t => h('div', name(t.name), ' ', h('code', `${t.elementType} ${fmt.shape(t.shape)}`))));
}

/** The preprocessing form for image folders (and scale for arrays); value() gives the JSON object or null. */
function preprocessingForm() {
  const num = (attrs = {}) => h('input', { type: 'number', step: 'any', ...attrs });
  const resizeH = num({ min: 1, max: 4096, step: 1, placeholder: 'keep', 'aria-label': 'resize height' });
  const resizeW = num({ min: 1, max: 4096, step: 1, placeholder: 'keep', 'aria-label': 'resize width' });
  const scale = h('input', { type: 'text', placeholder: '1 (none)', inputmode: 'decimal', size: 12 });
  const mean = h('input', { type: 'text', placeholder: 'e.g. 0.485, 0.456, 0.406' });
  const std = h('input', { type: 'text', placeholder: 'e.g. 0.229, 0.224, 0.225' });
  const layout = select([['nchw', 'NCHW (channels first)'], ['nhwc', 'NHWC (channels last)']], 'nchw');
  const order = select([['rgb', 'RGB'], ['bgr', 'BGR']], 'rgb');
  const gray = h('input', { type: 'checkbox' });
  const json = h('pre.json', { 'aria-live': 'polite' });
  const imageOnly = h('div.image-only');
  const parseList = s => s.split(/[\s,]+/).filter(Boolean).map(Number);
  const parseScale = s => {
    const m = /^\s*1\s*\/\s*([\d.]+)\s*$/.exec(s);
    return m ? 1 / Number(m[1]) : Number(s);
  };
  let images = false;
  const value = () => {
    const p = {};
    const sc = parseScale(scale.value);
    // text that is no number goes as it is, so that the service's answer names the problem
    if (scale.value.trim() && sc !== 1) p.scale = Number.isFinite(sc) ? sc : scale.value.trim();
    if (!images) return Object.keys(p).length ? p : null;
    if (resizeH.value || resizeW.value) p.resize = [Number(resizeH.value), Number(resizeW.value)];
    if (mean.value.trim()) p.mean = parseList(mean.value);
    if (std.value.trim()) p.std = parseList(std.value);
    p.layout = layout.value;
    p.channelOrder = order.value;
    if (gray.checked) p.grayscale = true;
    return p;
  };
  const show = () => { const v = value(); json.textContent = v ? JSON.stringify(v) : '(none)'; };
  const imagenet = button('ImageNet preset', () => {
    scale.value = '1/255';
    mean.value = IMAGENET.mean.join(', ');
    std.value = IMAGENET.std.join(', ');
    layout.value = IMAGENET.layout;
    order.value = IMAGENET.channelOrder;
    gray.checked = false;
    show();
  });
  imageOnly.append(
    h('div.row', field('Resize height', resizeH), field('Resize width', resizeW)),
    h('div.row', field('Mean (per channel)', mean), field('Std (per channel)', std)),
    h('div.row', field('Layout', layout), field('Channel order', order), h('label.check', gray, ' grayscale (1 channel)')),
    h('div.toolbar', imagenet));
  const el = h('fieldset.pre',
    h('legend', 'Preprocessing'),
    h('p.muted.small', h('code', 'x = (pixel · scale − mean[c]) / std[c]'), '; for npz / npy arrays only the scale applies.'),
    h('div.row', field('Scale', scale, 'a number, or 1/255 for 8-bit pixels to 0–1')), imageOnly,
    h('div.small', 'Sent as ', h('code', 'preprocessing'), ': ', json));
  el.addEventListener('input', show);
  el.addEventListener('change', show);
  return {
    el,
    value,
    setImages(v) { images = v; imageOnly.hidden = !v; show(); },
  };
}

export async function datasetsPage(main) {
  const form = preprocessingForm();
  const nameInput = h('input', { type: 'text', placeholder: 'from the file name' });
  const format = select([['', 'detect from the file'], ['npz', 'npz'], ['npy', 'npy'], ['image_folder', 'image folder (zip)']], '');
  const chosen = h('p.chosen', 'No file chosen.');
  const uploads = h('div.uploads', { 'aria-live': 'polite' });
  const listRegion = h('div');
  let file = null;
  const isImages = () => format.value === 'image_folder' || (!format.value && file && /\.zip$/i.test(file.name));
  const submit = h('button.primary', { type: 'submit', disabled: true }, 'Upload');
  format.addEventListener('change', () => form.setImages(isImages()));
  form.setImages(false);
  const upload = h('form.upload', {
    onsubmit: async e => {
      e.preventDefault();
      if (!file) return;
      const body = new FormData();
      body.append('file', file);
      if (nameInput.value.trim()) body.append('name', nameInput.value.trim());
      if (format.value) body.append('format', format.value);
      const pre = form.value();
      if (pre) body.append('preprocessing', JSON.stringify(pre));
      const row = uploadRow(file.name);
      uploads.prepend(row.el);
      submit.disabled = true;
      try {
        const d = await api.upload('datasets', body, row.progress);
        row.done('stored: ', link(`#/datasets/${d.id}`, d.name), ` (${d.sampleCount} samples, ${d.format})`);
        row.el.append(previewGrid(d));
        file = null;
        chosen.textContent = 'No file chosen.';
        await refresh();
      } catch (err) {
        row.failed(err);
        submit.disabled = false;
      }
    },
  },
  dropZone('Choose a dataset file', {
    accept: '.npz,.npy,.zip',
    onFile: f => { file = f; chosen.textContent = `Chosen: ${f.name} (${fmt.bytes(f.size)})`; submit.disabled = false; form.setImages(isImages()); },
  }),
  chosen,
  h('div.row', field('Name (optional)', nameInput), field('Format', format)),
  form.el,
  h('div.toolbar', submit));
  main.append(h('h1', 'Datasets'),
    card('Upload a dataset', h('p.muted.small', 'npz (arrays keyed by input name, optional integer "labels"), npy, or a zip of images in class folders (cat/0001.jpg).'), upload, uploads),
    card('All datasets', listRegion));

  const refresh = uploadsList(listRegion, 'datasets', 'dataset', [
    { label: 'Name', cell: d => link(`#/datasets/${d.id}`, name(d.name)) },
    { label: 'Format', cell: d => d.format },
    { label: 'Samples', cell: d => d.sampleCount.toLocaleString('en'), cls: 'num' },
    { label: 'Tensors', cell: tensors },
    { label: 'Labels', cell: d => (d.hasLabels ? (d.classNames ? `${d.classNames.length} classes` : 'yes') : 'no') },
  ]);
  await refresh();
}

export async function datasetPage(main, ctx, id) {
  const d = await api.get(`datasets/${id}`);
  const actions = h('div');
  const del = deleteButton('Delete dataset', `Delete dataset ${d.name}?`, `datasets/${id}`, '#/datasets', actions, api.del);
  main.append(
    h('div.title', h('h1', name(d.name)), h('div.buttons', del)),
    actions,
    h('div.metrics', metric('Samples', d.sampleCount.toLocaleString('en')), metric('Format', d.format),
      metric('Labels', d.hasLabels ? (d.classNames ? `${d.classNames.length} classes` : 'yes') : 'none'), metric('Size', fmt.bytes(d.sizeBytes))),
    h('div.grid2',
      card('Summary', facts([['Tensors', tensors(d)], ['sha256', h('code.name', { title: d.sha256 }, d.sha256)], ['Uploaded', fmt.time(d.createdAt)],
        ['Preprocessing', d.preprocessing ? h('code', JSON.stringify(d.preprocessing)) : 'none'],
        d.classNames ? ['Classes', h('ul.chips', d.classNames.map(c => h('li', c)))] : null])),
      card('Samples', h('p.muted.small', 'Decoded as the model gets them, preprocessing undone for display.'), previewGrid(d, 12))));
}
