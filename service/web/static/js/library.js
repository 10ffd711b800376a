// The library: thumbnails, search, paging, each file's version chain, download, delete, open in a tool.
import { api, bytes, el, toast, when } from './api.js';
import { confirmThen } from './dialog.js';
import { openIn } from './result.js';

const PAGE = 24;
let offset = 0;
let total = 0;
const list = document.getElementById('files');
const search = document.getElementById('lib-search');

const dialog = document.getElementById('open-dialog');
let opening = null;
function openInTool(file) {
  opening = file;
  dialog.querySelector('#open-tool').value = '';
  dialog.showModal();
}
dialog.addEventListener('close', () => {
  if (dialog.returnValue !== 'open' || !opening) return;
  const id = dialog.querySelector('#open-tool').value.trim().toLowerCase();
  if (!document.querySelector(`#tool-ids option[value="${CSS.escape(id)}"]`)) { toast(`No tool ${id}.`); return; }
  openIn(`/api/v1/files/${opening.id}/download`, opening.originalName, opening.id);
  location.href = `/tools/${id}`;
});

async function showVersions(file) {
  const { versions } = await api(`/api/v1/files/${file.id}`);
  document.getElementById('versions').replaceChildren(...versions.map((v) => el('li', {},
    el('strong', { text: `v${v.version}` }), el('span', { text: v.originalName }), el('span', { class: 'hint', text: `${bytes(v.size)} · ${when(v.createdAt)}` }),
    el('span', { class: 'hint', text: v.toolChain.length ? `via ${v.toolChain.join(' → ')}` : 'uploaded' }),
    el('a', { href: `/api/v1/files/${v.id}/download`, text: 'Download', 'aria-label': `Download version ${v.version}` }))));
  document.getElementById('versions-dialog').showModal();
}

function card(file) {
  const thumb = el('div', { class: 'thumb' });
  if (/^(image|video)\//.test(file.mimeType || '') || /\.pdf$/i.test(file.originalName)) {
    const img = el('img', { src: `/api/v1/files/${file.id}/thumbnail`, alt: '', loading: 'lazy' });
    img.addEventListener('error', () => { thumb.textContent = (file.originalName.split('.').pop() || '?').toUpperCase(); });
    thumb.append(img);
  } else {
    thumb.textContent = (file.originalName.split('.').pop() || '?').toUpperCase();
  }
  return el('li', { class: 'file-card', 'data-id': file.id }, thumb,
    el('div', { class: 'meta' }, el('strong', { text: file.originalName, title: file.originalName }),
      el('span', { class: 'hint', text: `${bytes(file.size)}${file.width ? ` · ${file.width}×${file.height}` : ''} · v${file.version}` })),
    el('div', { class: 'row' },
      el('a', { class: 'button', href: `/api/v1/files/${file.id}/download`, text: 'Download', 'aria-label': `Download ${file.originalName}` }),
      el('button', { type: 'button', text: 'Versions', 'aria-label': `Versions of ${file.originalName}`, onclick: () => showVersions(file).catch((e) => toast(e.message)) }),
      el('button', { type: 'button', text: 'Open in tool', 'aria-label': `Open in tool: ${file.originalName}`, onclick: () => openInTool(file) }),
      el('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete ${file.originalName}`,
        onclick: () => confirmThen(`Delete ${file.originalName} and all its versions?`, async () => {
          await api('/api/v1/files', { method: 'DELETE', json: { ids: [file.id] } });
          load();
        }) })));
}

async function load() {
  const params = new URLSearchParams({ limit: PAGE, offset });
  if (search.value.trim()) params.set('search', search.value.trim());
  const body = await api(`/api/v1/files?${params}`);
  total = body.total;
  list.replaceChildren(...body.files.map(card));
  document.getElementById('no-files').hidden = body.files.length > 0;
  const pages = Math.max(1, Math.ceil(total / PAGE));
  document.getElementById('page-info').textContent = `Page ${Math.floor(offset / PAGE) + 1} of ${pages}`;
  document.getElementById('prev').disabled = offset === 0;
  document.getElementById('next').disabled = offset + PAGE >= total;
}

let timer;
search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => { offset = 0; load(); }, 250); });
document.getElementById('prev').addEventListener('click', () => { offset = Math.max(0, offset - PAGE); load(); });
document.getElementById('next').addEventListener('click', () => { offset += PAGE; load(); });
document.getElementById('lib-upload').addEventListener('change', async (event) => {
  const data = new FormData();
  for (const f of event.target.files) data.append('files', f, f.name);
  event.target.value = '';
  try { await api('/api/v1/files/upload', { method: 'POST', form: data }); offset = 0; await load(); toast('Uploaded.'); } catch (e) { toast(e.message); }
});
load().catch((e) => toast(e.message));
