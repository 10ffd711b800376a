// A tool page: pick or drop files (several make a batch; named second inputs have their own zone), run with
// live progress from SSE and a cancel button, then show the result.
import { ApiError, api, bytes, el, request, toast } from './api.js';
import { collect, refresh, showErrors, wire } from './form.js';
import { attach } from './controls.js';
import { render } from './result.js';
import { statusList, zipLink } from './batch.js';
import { SHEET, sheetPreview } from './sheet.js';

const form = document.getElementById('tool-form');
const settingsBox = form.querySelector('[data-settings]');
const tool = form.dataset;
const files = new Map(); // role -> File[]
const progress = document.getElementById('progress');
const resultBox = document.getElementById('result');
const idle = document.getElementById('idle');
const formError = form.querySelector('.form-error');
let current = null; // {jobId, source, abort}
let parentId = null; // the library file this page's input came from

wire(settingsBox);
const control = attach(form, settingsBox);
const inputPreview = el('div', { class: 'input-preview' });
form.querySelector('.drop[data-role="file"]')?.after(inputPreview);

// a spreadsheet input shows its first rows (the result gets the same preview)
async function previewInput(file) {
  if (file === inputPreview.file) return; // the list changed around it (reordered, another added)
  inputPreview.file = file;
  inputPreview.replaceChildren();
  if (!file || !SHEET.test(file.name)) return;
  inputPreview.append(el('p', { class: 'hint', text: 'Loading a preview…' }));
  let shown;
  try { shown = await sheetPreview(file, file.name); } catch { shown = el('p', { class: 'hint', text: 'No preview of this file.' }); }
  if ((files.get('file') || [])[0] === file) inputPreview.replaceChildren(shown);
}

function listFiles(zone) {
  const role = zone.dataset.role;
  const list = zone.querySelector('.file-list');
  const items = files.get(role) || [];
  // merge tools take their inputs in this order: move with the buttons, or drag
  const ordered = tool.multi === 'true' && role === 'file' && items.length > 1;
  const move = (i, by) => { const [f] = items.splice(i, 1); items.splice(i + by, 0, f); listFiles(zone); zone.querySelectorAll('.file-list li')[i + by]?.querySelector(by < 0 ? '[data-up]' : '[data-down]')?.focus(); };
  list.replaceChildren(...items.map((f, i) => {
    const li = el('li', { draggable: ordered ? 'true' : null, 'data-index': i },
      ordered ? el('span', { class: 'hint', text: `${i + 1}.` }) : null,
      el('span', { class: 'fname', text: f.name }), el('span', { class: 'hint', text: ` ${bytes(f.size)}` }),
      ordered ? el('button', { type: 'button', class: 'link', 'data-up': '', disabled: i === 0, 'aria-label': `Move ${f.name} up`, text: '↑', onclick: () => move(i, -1) }) : null,
      ordered ? el('button', { type: 'button', class: 'link', 'data-down': '', disabled: i === items.length - 1, 'aria-label': `Move ${f.name} down`, text: '↓', onclick: () => move(i, 1) }) : null,
      el('button', { type: 'button', class: 'link', 'aria-label': `Remove ${f.name}`, text: '✕',
        onclick: () => { items.splice(i, 1); listFiles(zone); } }));
    if (ordered) {
      li.addEventListener('dragstart', (e) => { e.dataTransfer.setData('text/x-lutra-index', String(i)); e.stopPropagation(); });
      li.addEventListener('dragover', (e) => { if (e.dataTransfer.types.includes('text/x-lutra-index')) e.preventDefault(); });
      li.addEventListener('drop', (e) => {
        const from = e.dataTransfer.getData('text/x-lutra-index');
        if (from === '') return;
        e.preventDefault(); e.stopPropagation();
        const [f] = items.splice(Number(from), 1);
        items.splice(i, 0, f);
        listFiles(zone);
      });
    }
    return li;
  }));
  zone.classList.toggle('has-files', !!items.length);
  if (role === 'file') { control.update(items[0]); previewInput(items[0]); }
}

function addFiles(zone, incoming) {
  const role = zone.dataset.role;
  const many = zone.querySelector('input[type=file]').multiple;
  const next = many ? [...(files.get(role) || []), ...incoming] : incoming.slice(0, 1);
  files.set(role, next);
  listFiles(zone);
}

for (const zone of form.querySelectorAll('.drop')) {
  const input = zone.querySelector('input[type=file]');
  input.addEventListener('change', () => { addFiles(zone, [...input.files]); input.value = ''; });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer.files.length) addFiles(zone, [...e.dataTransfer.files]);
  });
}

// a result handed over from another tool's page (or the library): it becomes this tool's input
(async () => {
  const handoff = sessionStorage.getItem('lutra.handoff');
  const zone = form.querySelector('.drop[data-role="file"]');
  if (!handoff || !zone) return;
  sessionStorage.removeItem('lutra.handoff');
  try {
    const { url, name, parentId: fromLibrary } = JSON.parse(handoff);
    parentId = fromLibrary || null;
    const blob = await (await request(url)).blob();
    addFiles(zone, [new File([blob], name, { type: blob.type })]);
  } catch { toast('The file from the previous step could not be loaded.'); }
})();

form.addEventListener('reset', () => {
  setTimeout(() => { refresh(settingsBox); }, 0);
});

function remember() {
  const recent = JSON.parse(localStorage.getItem('lutra.recent') || '[]').filter((id) => id !== tool.tool);
  recent.unshift(tool.tool);
  localStorage.setItem('lutra.recent', JSON.stringify(recent.slice(0, 8)));
}

function fail(message, details) {
  const rest = details ? showErrors(settingsBox, details) : [];
  formError.textContent = rest.length && details.length ? `${message}` : message;
  formError.hidden = false;
  setBusy(false);
}

function setBusy(busy) {
  form.querySelector('#run').disabled = busy;
  form.setAttribute('aria-busy', busy ? 'true' : 'false');
  progress.hidden = !busy;
  if (busy) { idle.hidden = true; resultBox.hidden = true; setProgress(0, 'Uploading'); }
}

function setProgress(pct, message) {
  progress.querySelector('progress').value = pct;
  progress.querySelector('.pct').textContent = `${Math.round(pct)} %`;
  progress.querySelector('.msg').textContent = message || '';
}

function follow(jobId, onFrame = () => {}) {
  return new Promise((resolve, reject) => {
    const source = new EventSource(`/api/v1/jobs/${jobId}/progress`);
    current.source = source;
    source.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      onFrame(frame);
      setProgress(frame.progress || 0, frame.message || frame.status);
      if (frame.status === 'completed') { source.close(); setProgress(100, 'Done'); resolve(frame.result); }
      else if (frame.status === 'failed' || frame.status === 'canceled') {
        source.close();
        reject(new ApiError(422, { error: frame.error, code: frame.code }));
      }
    };
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) reject(new Error('The progress stream was lost.')); };
  });
}

document.getElementById('cancel').addEventListener('click', async () => {
  if (!current) return;
  if (current.jobId) {
    try { await api(`/api/v1/jobs/${current.jobId}/cancel`, { method: 'POST' }); } catch { /* it may have ended */ }
  } else {
    current.abort.abort();
  }
});

// the batch answers at once with its job (Prefer: respond-async); its frames carry each file's state
async function runBatch(settings, list) {
  const data = new FormData();
  for (const f of list) data.append('files', f, f.name);
  for (const role of [...form.querySelectorAll('.drop-role')].map((z) => z.dataset.role)) {
    for (const f of files.get(role) || []) data.append(role, f, f.name);
  }
  data.append('settings', JSON.stringify(settings));
  const status = statusList(list);
  resultBox.replaceChildren(status.list);
  resultBox.hidden = false;
  setProgress(0, `Uploading ${list.length} files`);
  let accepted;
  try {
    accepted = await api(`/api/v1/tools/${tool.section}/${tool.tool}/batch`, { method: 'POST', form: data, headers: { Prefer: 'respond-async' }, signal: current.abort.signal });
  } catch (err) {
    if (err.body && err.body.errors) status.refused(err.body.errors);
    throw err;
  }
  current.jobId = accepted.jobId;
  setProgress(0, 'Queued');
  const result = await follow(accepted.jobId, (frame) => status.show(frame.files));
  resultBox.append(zipLink(result));
}

async function runOne(settings, list) {
  let response;
  const roles = [...form.querySelectorAll('.drop-role')].map((z) => z.dataset.role);
  const withFiles = list.length || roles.some((r) => (files.get(r) || []).length);
  if (tool.body === 'json' || (tool.body === 'either' && !withFiles)) {
    response = await request(`/api/v1/tools/${tool.section}/${tool.tool}`, { method: 'POST', json: settings, signal: current.abort.signal });
  } else {
    const data = new FormData();
    const part = tool.multi === 'true' ? 'files' : 'file';
    for (const f of list) data.append(part, f, f.name);
    for (const role of roles) for (const f of files.get(role) || []) data.append(role, f, f.name);
    data.append('settings', JSON.stringify(settings));
    response = await request(`/api/v1/tools/${tool.section}/${tool.tool}`, { method: 'POST', form: data, signal: current.abort.signal });
  }
  let body = await response.json();
  if (body.async) {
    current.jobId = body.jobId;
    setProgress(0, 'Queued');
    body = await follow(body.jobId);
  }
  setProgress(100, 'Done');
  resultBox.hidden = false;
  await render(resultBox, body, { toolId: tool.tool, original: list[0], parentId });
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  formError.hidden = true;
  let settings;
  try { settings = collect(settingsBox); } catch (err) {
    if (err.field) { showErrors(settingsBox, [{ path: err.field.dataset.field, message: err.message }]); return; }
    throw err;
  }
  const list = files.get('file') || [];
  const min = Number(tool.min);
  const roleCount = [...form.querySelectorAll('.drop-role')].reduce((n, z) => n + (files.get(z.dataset.role) || []).length, 0);
  const painted = control.state.painted ? 1 : 0;
  if (tool.body !== 'json' && tool.body !== 'either' && list.length + roleCount + painted < min) {
    fail(min > 1 ? `Add at least ${min} files.` : 'Add a file first.');
    return;
  }
  const maskZone = form.querySelector('.drop-role[data-role="mask"]');
  if (maskZone && !(files.get('mask') || []).length && control.state.painted) files.set('mask', [await control.state.maskFile()]);
  current = { jobId: null, source: null, abort: new AbortController() };
  setBusy(true);
  remember();
  try {
    if (list.length > 1 && tool.batch === 'true') await runBatch(settings, list);
    else await runOne(settings, list);
    progress.hidden = true;
  } catch (err) {
    if (err.name === 'AbortError') fail('Canceled.');
    else if (err.code === 'CANCELED') fail('Canceled.');
    else fail(err.message, err.details);
    resultBox.hidden = resultBox.childElementCount === 0;
  } finally {
    if (current && current.source) current.source.close();
    current = null;
    form.querySelector('#run').disabled = false;
    form.setAttribute('aria-busy', 'false');
  }
});
