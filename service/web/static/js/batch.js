// A batch's status list: one row per file, updated live from the batch job's SSE frames (`files`: each
// file's state, progress, error and, once packed, its own download), then the ZIP of them all.
import { bytes, el } from './api.js';

const LABEL = { queued: 'queued', processing: 'running', completed: 'done', failed: 'failed', canceled: 'canceled' };

export function statusList(files) {
  const rows = files.map((f, i) => el('li', { 'data-index': i, 'data-state': 'uploading' },
    el('span', { class: 'fname', text: f.name }),
    // the state's words are announced (aria-live); the percent is the bar's value, read when focused
    el('span', { class: 'state', text: 'uploading' }),
    el('progress', { max: '100', value: '0', 'aria-label': `Progress of ${f.name}` }),
    el('span', { class: 'pct', 'aria-hidden': 'true' }),
    el('span', { class: 'file-download' })));
  const list = el('ul', { class: 'batch-status', 'aria-live': 'polite', 'aria-label': 'Files of the batch' }, rows);
  return { list, show: (states) => show(rows, states), refused: (errors) => refused(rows, files, errors) };
}

function show(rows, states) {
  for (const state of states || []) {
    const row = rows[state.index];
    if (!row) continue;
    const word = LABEL[state.status] || state.status;
    const text = state.status === 'failed' || state.status === 'canceled'
      ? `${word}: ${state.error || ''}`.replace(/: $/, '') : word;
    const stateEl = row.querySelector('.state');
    if (stateEl.textContent !== text) stateEl.textContent = text; // unchanged words are not announced again
    row.dataset.state = state.status;
    row.classList.toggle('good', state.status === 'completed');
    row.classList.toggle('bad', state.status === 'failed' || state.status === 'canceled');
    const pct = Math.round(state.progress || 0);
    row.querySelector('progress').value = pct;
    row.querySelector('.pct').textContent = state.status === 'processing' ? `${pct} %` : '';
    const slot = row.querySelector('.file-download');
    if (state.downloadUrl && !slot.firstChild) {
      slot.append(el('a', { href: state.downloadUrl, download: state.output || '', text: `Download ${state.output || 'result'}` }));
    }
  }
}

// every file failed: the server answered 422 with `errors` [{filename, error}] and no job to follow
function refused(rows, files, errors) {
  const left = [...(errors || [])];
  show(rows, rows.map((_, i) => {
    const at = left.findIndex((e) => e.filename === files[i].name);
    const error = at >= 0 ? left.splice(at, 1)[0] : null;
    return { index: i, status: 'failed', progress: 0, error: error ? error.error : '' };
  }));
}

export function zipLink(result) {
  const name = decodeURIComponent(result.downloadUrl.split('/').pop());
  return el('div', { class: 'actions' }, el('a', { class: 'button primary', href: result.downloadUrl, download: name,
    text: `Download ${name} (${bytes(result.processedSize)})` }));
}
