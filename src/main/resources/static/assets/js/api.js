// The REST API as the page uses it: relative URLs, the key (when the service wants one) from session
// storage, problem+json errors as ApiError with the service's `detail`.

const KEY = 'qf.apiKey';
const BASE = new URL('api/v1/', document.baseURI);

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.errors = problem?.errors || [];
  }
}

export function url(path) {
  return new URL(path.replace(/^\//, ''), BASE).toString();
}

export function apiKey() {
  return sessionStorage.getItem(KEY);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
  document.dispatchEvent(new CustomEvent('qf:key'));
}

function authHeaders(headers = {}) {
  const key = apiKey();
  return key ? { ...headers, Authorization: `Bearer ${key}` } : headers;
}

// One prompt at a time: every request that got a 401 waits for the same answer.
let pendingPrompt = null;

function askForKey(detail) {
  if (pendingPrompt) return pendingPrompt;
  const dialog = document.getElementById('key-dialog');
  const input = document.getElementById('key-input');
  const error = document.getElementById('key-error');
  error.hidden = !detail;
  error.textContent = detail || '';
  input.value = '';
  pendingPrompt = new Promise(resolve => {
    dialog.addEventListener('close', () => {
      pendingPrompt = null;
      if (dialog.returnValue === 'ok' && input.value.trim()) {
        sessionStorage.setItem(KEY, input.value.trim());
        document.dispatchEvent(new CustomEvent('qf:key'));
        resolve(true);
      } else {
        resolve(false);
      }
    }, { once: true });
    dialog.showModal();
    input.focus();
  });
  return pendingPrompt;
}

async function problemOf(res) {
  const type = res.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try { return await res.json(); } catch { /* fall through */ }
  }
  return { detail: `${res.status} ${res.statusText}` };
}

/** fetch with the key; on 401 asks for a key and tries again. Resolves to an ok Response, else throws ApiError. */
export async function send(path, init = {}) {
  for (;;) {
    const res = await fetch(url(path), { ...init, headers: authHeaders(init.headers) });
    if (res.status === 401) {
      const problem = await problemOf(res);
      if (await askForKey(apiKey() ? problem.detail : null)) continue;
      throw new ApiError(401, problem);
    }
    if (!res.ok) throw new ApiError(res.status, await problemOf(res));
    return res;
  }
}

export async function get(path) {
  return (await send(path, { headers: { Accept: 'application/json' } })).json();
}

export async function post(path, body, headers = {}) {
  const res = await send(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.status === 204 ? null : res.json();
}

export async function del(path) {
  await send(path, { method: 'DELETE' });
}

/** A binary response as an object URL (images, downloads), with the response headers. */
export async function blob(path) {
  const res = await send(path);
  return { url: URL.createObjectURL(await res.blob()), headers: res.headers };
}

/** Saves an artifact or model download under the server's file name. */
export async function download(path, fallbackName) {
  const res = await send(path);
  const disposition = res.headers.get('Content-Disposition') || '';
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] || fallbackName;
  const href = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

/**
 * Multipart upload with progress (XMLHttpRequest: fetch cannot report upload progress).
 * onProgress(fraction) is called while the bytes go out. Resolves to the parsed JSON answer.
 */
export function upload(path, form, onProgress) {
  const attempt = () => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url(path));
    const key = apiKey();
    if (key) xhr.setRequestHeader('Authorization', `Bearer ${key}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = e => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, { detail: 'the upload failed: the service cannot be reached' }));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body || { detail: `${xhr.status} ${xhr.statusText}` }));
    };
    xhr.send(form);
  });
  return attempt().catch(async e => {
    if (e.status === 401 && await askForKey(apiKey() ? e.message : null)) return upload(path, form, onProgress);
    throw e;
  });
}

/**
 * Follows a job's server-sent events (state, progress, log) with fetch streaming, so the key travels in a
 * header and never in a URL. Reconnects until the job is final or stop() is called; log lines are
 * de-duplicated by their seq across reconnects.
 */
export function followJob(jobId, { onState, onProgress, onLog, onEnd }) {
  const controller = new AbortController();
  let lastSeq = 0;
  let stopped = false;
  let final = false;
  const dispatch = (event, data) => {
    let value;
    try { value = JSON.parse(data); } catch { return; }
    if (event === 'log') {
      if (value.seq <= lastSeq) return;
      lastSeq = value.seq;
      onLog?.(value);
    } else if (event === 'progress') {
      onProgress?.(value);
    } else if (event === 'state') {
      final = ['succeeded', 'failed', 'cancelled'].includes(value.state);
      onState?.(value);
    }
  };
  (async () => {
    while (!stopped) {
      try {
        const res = await send(`jobs/${jobId}/events`, { headers: { Accept: 'text/event-stream' }, signal: controller.signal });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
            let event = 'message';
            const data = [];
            for (const line of block.split(/\r?\n/)) {
              if (line.startsWith('event:')) event = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            }
            if (data.length) dispatch(event, data.join('\n'));
          }
        }
      } catch (e) {
        if (stopped || e.name === 'AbortError') break;
        if (e instanceof ApiError && e.status !== 0 && e.status < 500) { onEnd?.(e); return; }
      }
      if (final || stopped) break;
      await new Promise(r => setTimeout(r, 2000));
    }
    if (!stopped) onEnd?.(null);
  })();
  return { stop() { stopped = true; controller.abort(); } };
}
