// Pipeline builder: add, remove and reorder steps (each with its tool's generated form), run on a file or a
// batch with live progress, save / load / delete saved pipelines.
import { ApiError, api, bytes, el, request, toast } from './api.js';
import { confirmThen } from './dialog.js';
import { collect, showErrors, wire } from './form.js';
import { render } from './result.js';

const stepsList = document.getElementById('steps');
const picker = document.getElementById('add-tool');
let counter = 0;
let inputs = [];
let current = null;

function names() { return new Map([...picker.options].map((o) => [o.value, o.dataset.name || o.value])); }

function renumber() {
  const items = [...stepsList.children];
  items.forEach((li, i) => {
    li.querySelector('.step-no').textContent = `${i + 1}.`;
    li.querySelector('[data-move="-1"]').disabled = i === 0;
    li.querySelector('[data-move="1"]').disabled = i === items.length - 1;
  });
  document.getElementById('no-steps').hidden = items.length > 0;
}

async function addStep(toolId, settings = {}) {
  const n = ++counter;
  const label = names().get(toolId) || toolId;
  const body = el('div', { class: 'step-body' });
  const li = el('li', { class: 'step', 'data-tool': toolId },
    el('div', { class: 'step-head' }, el('span', { class: 'step-no' }), el('strong', { text: label }),
      el('button', { type: 'button', class: 'ghost', 'data-move': '-1', 'aria-label': `Move ${label} up`, text: '↑' }),
      el('button', { type: 'button', class: 'ghost', 'data-move': '1', 'aria-label': `Move ${label} down`, text: '↓' }),
      el('button', { type: 'button', class: 'danger', 'data-remove': '', 'aria-label': `Remove ${label}`, text: '✕' })),
    el('details', {}, el('summary', { text: 'Settings' }), body));
  stepsList.append(li);
  renumber();
  const html = await (await request(`/tools/${encodeURIComponent(toolId)}/form?step=${n}`)).text();
  body.innerHTML = html; // our own server's template of the tool's form, not user content
  const box = body.querySelector('[data-settings]');
  for (const [key, value] of Object.entries(settings)) {
    const field = box.querySelector(`[data-field="${CSS.escape(key)}"]`);
    if (!field) continue;
    if (field.dataset.widget === 'segmented') {
      for (const r of field.querySelectorAll('input[type=radio]')) r.checked = String(r.value) === String(value);
    } else {
      const input = field.querySelector('[data-value]');
      if (input.type === 'checkbox') input.checked = !!value;
      else input.value = field.dataset.kind === 'json' ? JSON.stringify(value) : (value ?? '');
      const mirror = field.querySelector('[data-mirror]');
      if (mirror && value != null) mirror.value = value;
    }
  }
  wire(box);
}

stepsList.addEventListener('click', (event) => {
  const li = event.target.closest('li.step');
  if (!li) return;
  const move = event.target.closest('[data-move]');
  if (move) {
    if (move.dataset.move === '-1' && li.previousElementSibling) li.previousElementSibling.before(li);
    if (move.dataset.move === '1' && li.nextElementSibling) li.nextElementSibling.after(li);
    renumber();
    move.focus();
  } else if (event.target.closest('[data-remove]')) {
    li.remove();
    renumber();
    picker.focus();
  }
});
document.getElementById('add-step').addEventListener('click', () => {
  if (!picker.value) { picker.focus(); return; }
  addStep(picker.value).catch((e) => toast(e.message));
  picker.value = '';
});

function pipeline() {
  return { steps: [...stepsList.children].map((li) => ({ toolId: li.dataset.tool, settings: collect(li.querySelector('[data-settings]')) })) };
}

function stepErrors(err) {
  const rest = [];
  const byStep = new Map();
  for (const d of err.details || []) {
    const m = /^steps\.(\d+)\.settings\.(.+)$/.exec(d.path || '');
    if (!m) { rest.push(d); continue; }
    if (!byStep.has(+m[1])) byStep.set(+m[1], []);
    byStep.get(+m[1]).push({ path: m[2], message: d.message });
  }
  for (const [i, details] of byStep) {
    const li = stepsList.children[i];
    if (li) { li.querySelector('details').open = true; showErrors(li.querySelector('[data-settings]'), details); }
  }
  return rest;
}

// ---- run
const zone = document.querySelector('.drop');
const fileInput = document.getElementById('pipe-file');
function showInputs() {
  zone.querySelector('.file-list').replaceChildren(...inputs.map((f) => el('li', {}, el('span', { class: 'fname', text: f.name }), el('span', { class: 'hint', text: bytes(f.size) }))));
}
fileInput.addEventListener('change', () => { inputs = [...fileInput.files]; fileInput.value = ''; showInputs(); });
zone.addEventListener('dragover', (e) => e.preventDefault());
zone.addEventListener('drop', (e) => { e.preventDefault(); inputs = [...e.dataTransfer.files]; showInputs(); });

const progress = document.getElementById('progress');
const result = document.getElementById('result');
const runError = document.getElementById('run-error');
function setProgress(pct, msg) {
  progress.querySelector('progress').value = pct;
  progress.querySelector('.pct').textContent = `${Math.round(pct)} %`;
  progress.querySelector('.msg').textContent = msg || '';
}
function follow(jobId) {
  return new Promise((resolve, reject) => {
    const source = new EventSource(`/api/v1/jobs/${jobId}/progress`);
    current.source = source;
    source.onmessage = (event) => {
      const f = JSON.parse(event.data);
      setProgress(f.progress || 0, f.message || (f.currentStep ? `step ${f.currentStep}` : f.status));
      if (f.status === 'completed') { source.close(); resolve(f.result); }
      if (f.status === 'failed' || f.status === 'canceled') { source.close(); reject(new ApiError(422, { error: f.error, code: f.code })); }
    };
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) reject(new Error('The progress stream was lost.')); };
  });
}
document.getElementById('cancel').addEventListener('click', () => {
  if (current && current.jobId) api(`/api/v1/jobs/${current.jobId}/cancel`, { method: 'POST' }).catch(() => {});
});
document.getElementById('run-pipeline').addEventListener('click', async () => {
  runError.hidden = true;
  let spec;
  try { spec = pipeline(); } catch (e) { runError.textContent = e.message; runError.hidden = false; return; }
  if (!spec.steps.length) { runError.textContent = 'Add a step first.'; runError.hidden = false; return; }
  if (!inputs.length) { runError.textContent = 'Choose an input file.'; runError.hidden = false; return; }
  const data = new FormData();
  const batch = inputs.length > 1;
  for (const f of inputs) data.append(batch ? 'files' : 'file', f, f.name);
  data.append('pipeline', JSON.stringify(spec));
  current = { jobId: null, source: null };
  progress.hidden = false; result.hidden = true; setProgress(0, 'Uploading');
  try {
    const response = await request(`/api/v1/pipeline/${batch ? 'batch' : 'execute'}`, { method: 'POST', form: data });
    if (batch) {
      const blob = await response.blob();
      result.replaceChildren(el('a', { class: 'button primary', href: URL.createObjectURL(blob), download: 'pipeline-batch.zip', text: `Download pipeline-batch.zip (${bytes(blob.size)})` }));
    } else {
      let body = await response.json();
      if (body.async) { current.jobId = body.jobId; body = await follow(body.jobId); }
      await render(result, body, { toolId: spec.steps[spec.steps.length - 1].toolId, original: inputs[0] });
    }
    progress.hidden = true;
    result.hidden = false;
  } catch (err) {
    const rest = err.details ? stepErrors(err) : [];
    runError.textContent = [err.message, ...rest.map((d) => `${d.path}: ${d.message}`)].join(' ');
    runError.hidden = false;
    progress.hidden = true;
  } finally {
    if (current && current.source) current.source.close();
    current = null;
  }
});

// ---- saved
async function loadSaved() {
  const { pipelines } = await api('/api/v1/pipeline/list');
  document.getElementById('saved').replaceChildren(...pipelines.map((p) => el('li', {},
    el('strong', { text: p.name }), el('span', { class: 'hint', text: `${p.steps.length} step${p.steps.length === 1 ? '' : 's'}: ${p.steps.map((s) => s.toolId).join(' → ')}` }),
    el('button', { type: 'button', text: 'Load', 'aria-label': `Load ${p.name}`, onclick: async () => {
      stepsList.replaceChildren();
      for (const s of p.steps) await addStep(s.toolId, s.settings || {});
      document.getElementById('pipe-name').value = p.name;
      document.getElementById('pipe-desc').value = p.description || '';
      toast(`Loaded ${p.name}.`);
    } }),
    el('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete ${p.name}`,
      onclick: () => confirmThen(`Delete the pipeline ${p.name}?`, async () => {
        await api(`/api/v1/pipeline/${p.id}`, { method: 'DELETE' });
        loadSaved();
      }) }))));
  document.getElementById('no-saved').hidden = pipelines.length > 0;
}
document.getElementById('save-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = document.getElementById('save-error');
  error.hidden = true;
  const name = document.getElementById('pipe-name').value.trim();
  try {
    if (!name) throw new Error('Give the pipeline a name.');
    const spec = pipeline();
    if (!spec.steps.length) throw new Error('Add a step first.');
    await api('/api/v1/pipeline/save', { method: 'POST', json: { name, description: document.getElementById('pipe-desc').value, steps: spec.steps } });
    toast(`Saved ${name}.`);
    loadSaved();
  } catch (err) {
    if (err.details) stepErrors(err);
    error.textContent = err.message; error.hidden = false;
  }
});
loadSaved().catch((e) => toast(e.message));
