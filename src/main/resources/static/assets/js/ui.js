// Small DOM helpers and formatters shared by the pages.

/** h('div.card', {title: 'x', onclick: fn}, child, 'text', [more]) */
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const fmt = {
  pct: v => (v === null || v === undefined || Number.isNaN(v) ? '–' : `${(v * 100).toFixed(2)} %`),
  pts: v => (v === null || v === undefined ? '–' : `${v > 0 ? '+' : ''}${(v * 100).toFixed(2)} pt`),
  ms: v => (v === null || v === undefined ? '–' : v < 1 ? `${(v * 1000).toFixed(1)} µs` : `${v.toFixed(3)} ms`),
  db: v => (v === null || v === undefined ? '–' : `${v.toFixed(1)} dB`),
  num: (v, d = 4) => (v === null || v === undefined ? '–' : typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en') : Number(v.toPrecision(d)).toString()) : String(v)),
  x: v => (v === null || v === undefined ? '–' : `${v.toFixed(2)}×`),
  bytes: v => {
    if (v === null || v === undefined) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB'];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return `${i ? v.toFixed(1) : v} ${units[i]}`;
  },
  time: iso => (iso ? new Date(iso).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' }) : '–'),
  duration: (from, to) => (from ? fmt.seconds(((to ? new Date(to) : new Date()) - new Date(from)) / 1000) : '–'),
  seconds: s => {
    s = Math.max(0, s);
    return s < 60 ? `${s.toFixed(1)} s` : s < 3600 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${(s / 3600).toFixed(1)} h`;
  },
  shape: s => `[${(s || []).map(d => (d === null ? '?' : d)).join(', ')}]`,
  id: id => (id ? id.slice(0, 8) : '–'),
};

/** A cell text that ellipsizes and shows the whole value on hover and to screen readers. */
export function name(text, cls = 'name') {
  return h(`span.${cls}`, { title: text }, text);
}

export function stateBadge(state) {
  return h(`span.badge.state-${state}`, state);
}

export function progressBar(fraction, label) {
  const pct = Math.round((fraction || 0) * 100);
  return h('div.progress', { role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct), 'aria-label': label || 'progress' },
    h('div.bar', { style: `width:${pct}%` }));
}

export function setProgress(el, fraction) {
  const pct = Math.round((fraction || 0) * 100);
  el.setAttribute('aria-valuenow', String(pct));
  el.firstElementChild.style.width = `${pct}%`;
}

/** An alert showing an API error's detail (and its field errors). */
export function errorBox(e) {
  return h('div.error', { role: 'alert' },
    h('strong', e.status ? `${e.problem?.title || 'Error'} (${e.status}): ` : 'Error: '), e.message,
    e.errors?.length ? h('ul', e.errors.map(f => h('li', h('code', f.field), ': ', f.message))) : null);
}

/** Puts an error into a region of the page (replacing what was there). */
export function showError(region, e) {
  console.error(e);
  clear(region, errorBox(e));
}

/** A table: columns [{label, cell(row) → node|string, cls}], rows. */
export function table(columns, rows, { caption, empty = 'Nothing yet.', rowAttrs } = {}) {
  if (!rows.length) return h('p.muted', empty);
  return h('div.table-wrap',
    h('table', caption ? h('caption', caption) : null,
      h('thead', h('tr', columns.map(c => h('th', { scope: 'col', class: c.cls }, c.label)))),
      h('tbody', rows.map(r => h('tr', rowAttrs ? rowAttrs(r) : null, columns.map(c => h('td', { class: c.cls }, c.cell(r))))))));
}

/** Key/value list. */
export function facts(pairs) {
  return h('dl.facts', pairs.filter(p => p).flatMap(([k, v]) => [h('dt', k), h('dd', v ?? '–')]));
}

export function card(title, ...children) {
  return h('section.card', title ? h('h2', title) : null, ...children);
}

export function metric(label, value, sub, wide = false) {
  return h(`div.metric${wide ? '.wide' : ''}`, h('div.label', label), h('div.value', value), sub ? h('div.sub', sub) : null);
}

export function link(href, text, title) {
  return h('a', { href, title: title || undefined }, text);
}

const uid = () => `f-${Math.random().toString(36).slice(2, 9)}`;

/** A labelled form control. */
export function field(label, control, hint) {
  const id = control.id || uid();
  control.id = id;
  return h('div.field', h('label', { for: id }, label), control, hint ? h('small.hint', hint) : null);
}

export function select(options, value, attrs = {}) {
  return h('select', attrs, options.map(o => {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    return h('option', { value: v, selected: v === value }, text);
  }));
}

export function button(text, onclick, cls = '') {
  return h(`button${cls ? '.' + cls : ''}`, { type: 'button', onclick }, text);
}

/** A delete button: asks first, deletes `path`, then goes to `back`; a refusal (409 while a job uses it) shows in `region`. */
export function deleteButton(label, question, path, back, region, del) {
  const btn = button(label, () => busy(btn, region, async () => {
    if (!confirm(question)) return;
    await del(path);
    location.hash = back;
  }), 'danger');
  return btn;
}

/** "3 models" */
export const count = (n, noun) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** Runs an async action from a button: disables it meanwhile and shows errors in `region`. */
export async function busy(btn, region, action) {
  btn.disabled = true;
  try {
    return await action();
  } catch (e) {
    if (region) showError(region, e); else throw e;
  } finally {
    btn.disabled = false;
  }
}

/** The page's hash query (#/compare?ids=a,b → URLSearchParams). */
export function hashQuery() {
  const q = location.hash.indexOf('?');
  return new URLSearchParams(q >= 0 ? location.hash.slice(q + 1) : '');
}

/**
 * A file picker that also takes a dropped file: a real (visually hidden) file input, so it is keyboard-usable,
 * and its label as the drop target. onFile(file) for each file chosen or dropped.
 */
export function dropZone(label, { accept, multiple = false, onFile }) {
  const input = h('input.visually-hidden', { type: 'file', accept, multiple, id: uid() });
  const zone = h('label.drop', h('strong', label), h('span', ' — or drop a file here'), accept ? h('small.hint', accept) : null);
  const wrap = h('div.drop-wrap', input, zone);
  zone.htmlFor = input.id;
  input.addEventListener('change', () => { [...input.files].forEach(onFile); input.value = ''; });
  zone.addEventListener('dragover', e => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', e => {
    e.preventDefault();
    zone.classList.remove('over');
    [...e.dataTransfer.files].slice(0, multiple ? undefined : 1).forEach(onFile);
  });
  return wrap;
}

/** A row that shows an upload's progress, then its outcome. */
export function uploadRow(fileName) {
  const bar = progressBar(0, `uploading ${fileName}`);
  const status = h('span.status', 'uploading…');
  const el = h('div.upload-row', name(fileName), bar, status);
  return {
    el,
    progress: f => { setProgress(bar, f); status.textContent = f < 1 ? `${Math.round(f * 100)} %` : 'validating…'; },
    done: (...nodes) => { setProgress(bar, 1); el.classList.add('ok'); clear(status, ...nodes); },
    failed: e => { el.classList.add('failed'); clear(status, errorBox(e)); },
  };
}
