// Showing a finished result: a preview by type (spreadsheets: sheet.js), sizes before/after, download, save to library, open in a tool.
import { api, bytes, el, request, toast } from './api.js';
import { SHEET, sheetPreview } from './sheet.js';

const IMAGE = /\.(png|jpe?g|webp|gif|avif|bmp|svg|ico)$/i;
const VIDEO = /\.(mp4|webm|mov|mkv|m4v|ogv)$/i;
const AUDIO = /\.(mp3|wav|ogg|oga|opus|flac|m4a|aac)$/i;
const TEXT = /\.(json|xml|ya?ml|txt|md|srt|vtt|html?|svg|log)$/i;
const MAX_TEXT = 200_000;

export function fileName(url) {
  return decodeURIComponent(url.split('/').pop());
}

// JSON/XML/YAML get light highlighting: keys, strings, numbers, tags (all through textContent, never HTML)
function highlight(text, name) {
  const pre = el('pre', { class: 'code', tabindex: '0' });
  const rules = /\.json$/i.test(name) ? /("(?:\\.|[^"\\])*"(?=\s*:))|("(?:\\.|[^"\\])*")|(-?\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b|true|false|null)/gi
    : /\.(xml|html?|svg)$/i.test(name) ? /(<\/?[\w:-]+)|("[^"]*")|(&\w+;)/g
    : /\.ya?ml$/i.test(name) ? /(^\s*[\w-]+(?=:))|("[^"]*"|'[^']*')|(\b\d+(?:\.\d+)?\b|true|false|null)/gm : null;
  if (!rules) { pre.textContent = text; return pre; }
  let last = 0;
  for (const m of text.matchAll(rules)) {
    pre.append(text.slice(last, m.index));
    const cls = m[1] ? 'tok-key' : m[2] ? 'tok-str' : 'tok-num';
    pre.append(el('span', { class: cls, text: m[0] }));
    last = m.index + m[0].length;
  }
  pre.append(text.slice(last));
  return pre;
}

// Before/after: the original under, the result over, clipped at the slider's position. Only when both have
// the same shape (a rotated or cropped result is shown on its own).
function compare(beforeUrl, afterUrl, name) {
  const after = el('img', { src: afterUrl, alt: 'Result', class: 'after' });
  const before = el('img', { src: beforeUrl, alt: 'Original', class: 'before' });
  const range = el('input', { type: 'range', min: '0', max: '100', value: '50', 'aria-label': 'Compare original and result' });
  const box = el('div', { class: 'compare' }, after, el('div', { class: 'before-clip' }, before), range);
  const clip = box.querySelector('.before-clip');
  const set = () => { clip.style.width = `${range.value}%`; before.style.width = `${box.clientWidth}px`; };
  range.addEventListener('input', set);
  const ready = Promise.all([after, before].map((img) => img.decode().catch(() => null)));
  ready.then(() => {
    const a = after.naturalWidth / after.naturalHeight;
    const b = before.naturalWidth / before.naturalHeight;
    if (!a || !b || Math.abs(a - b) / a > 0.02) {
      box.replaceWith(el('img', { src: afterUrl, alt: `Result: ${name}`, class: 'preview-img' }));
      return;
    }
    box.style.maxWidth = `min(100%, calc(60vh * ${a.toFixed(4)}))`;
    set();
    new ResizeObserver(set).observe(box);
  });
  return box;
}

export async function preview(url, name, original) {
  if (IMAGE.test(name) && !/\.svg$/i.test(name)) {
    if (original && original.type.startsWith('image/') && !/heic|heif|tiff/.test(original.type)) {
      return compare(URL.createObjectURL(original), url, name);
    }
    return el('img', { src: url, alt: `Result: ${name}`, class: 'preview-img' });
  }
  if (VIDEO.test(name)) return el('video', { src: url, controls: true, preload: 'metadata', class: 'preview-media' });
  if (AUDIO.test(name)) return el('audio', { src: url, controls: true, preload: 'metadata' });
  if (/\.pdf$/i.test(name)) return pdfFirstPage(url);
  if (SHEET.test(name)) return sheetPreview(url, name);
  if (TEXT.test(name)) {
    const response = await fetch(url);
    const size = Number(response.headers.get('Content-Length') || 0);
    if (size > MAX_TEXT) return el('p', { class: 'hint', text: 'Too large to preview here; download it.' });
    return highlight(await response.text(), name);
  }
  return null;
}

// The first page of a PDF as an image, rendered by the server's pdf-to-image preview (no PDF.js to ship).
async function pdfFirstPage(url) {
  const figure = el('figure', { class: 'pdf-page' }, el('figcaption', { class: 'hint', text: 'First page' }));
  try {
    const blob = await (await fetch(url)).blob();
    const form = new FormData();
    form.append('file', new File([blob], 'preview.pdf', { type: 'application/pdf' }));
    form.append('settings', JSON.stringify({ page: 1 }));
    const image = await (await request('/api/v1/tools/pdf/pdf-to-image/preview', { method: 'POST', form })).blob();
    figure.prepend(el('img', { src: URL.createObjectURL(image), alt: 'First page of the PDF', class: 'preview-img' }));
  } catch {
    figure.lastChild.textContent = 'No preview of this PDF.';
  }
  return figure;
}

// the next tool page takes this file as its input; a library file's id rides along, so that saving that
// tool's result makes the file's next version
export function openIn(url, name, parentId) {
  sessionStorage.setItem('lutra.handoff', JSON.stringify({ url, name, parentId }));
}

export async function render(target, result, { toolId, original, parentId } = {}) {
  target.replaceChildren();
  const name = fileName(result.downloadUrl);
  const holder = el('div', { class: 'preview' });
  target.append(holder);
  const sizes = el('p', { class: 'sizes' },
    result.originalSize ? `${bytes(result.originalSize)} → ` : '', el('strong', { text: bytes(result.processedSize) }),
    result.originalSize && result.processedSize ? ` (${Math.round((result.processedSize / result.originalSize) * 100)} %)` : '');
  const download = el('a', { class: 'button primary', href: result.downloadUrl, download: name, text: `Download ${name}` });
  const actions = el('div', { class: 'actions' }, download);
  if ((document.body.dataset.perms || '').includes('files:own')) {
    const save = el('button', { type: 'button', class: 'ghost', text: 'Save to library' });
    save.addEventListener('click', async () => {
      save.disabled = true;
      try {
        const body = await api('/api/v1/files/save-result', { method: 'POST', json: { jobId: result.jobId, toolId, parentId: parentId || undefined } });
        save.textContent = `Saved (version ${body.file.version || 1})`;
        toast('Saved to the library.');
      } catch (err) { save.disabled = false; toast(err.message); }
    });
    actions.append(save);
  }
  const picker = el('select', { 'aria-label': 'Open the result in another tool', class: 'open-in' },
    el('option', { value: '', text: 'Open in another tool…' }));
  loadToolList();
  picker.addEventListener('change', () => {
    if (!picker.value) return;
    openIn(result.downloadUrl, name);
    location.href = `/tools/${picker.value}`;
  });
  actions.append(picker);
  target.append(sizes, actions);
  const extra = Object.entries(result).filter(([k, v]) => !['jobId', 'downloadUrl', 'downloads', 'originalSize', 'processedSize'].includes(k) && (typeof v !== 'object' || v === null));
  if (extra.length) target.append(el('dl', { class: 'extras' }, extra.map(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v) })])));
  if (result.downloads && result.downloads.length) {
    target.append(el('h3', { text: 'More files' }), el('ul', { class: 'downloads' },
      result.downloads.map((d) => el('li', {}, el('a', { href: d.downloadUrl, download: d.filename, text: d.filename }), ` ${bytes(d.size)}`))));
  }
  try {
    const shown = await preview(result.downloadUrl, name, original);
    if (shown) holder.append(shown);
  } catch { /* a preview is a nicety */ }

  async function loadToolList() {
    try {
      const { tools } = await api('/api/v1/tools');
      for (const t of tools.filter((t) => !t.disabled && t.id !== toolId && t.inputs.max > 0)) {
        picker.append(el('option', { value: t.id, text: t.id }));
      }
    } catch { /* leave it empty */ }
  }
}
