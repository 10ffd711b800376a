// Richer controls, chosen by what a tool's form holds (its model's field names) and by its named inputs:
// draw a box (left/top/width/height), click to place (x/y, or a `position` of named places: place.js), a
// timeline (startS/endS), paint a mask (role "mask"). Each writes into the generated form's own fields, so
// the request is the same as typing them.
import { el, request } from './api.js';
import { placeControl, placesOf } from './place.js';

function field(box, name) { return box.querySelector(`[data-field="${name}"]`); }

export function setValue(box, name, value) {
  const f = field(box, name);
  if (!f) return;
  if (f.dataset.widget === 'segmented') {
    for (const r of f.querySelectorAll('input[type=radio]')) r.checked = String(r.value) === String(value);
  } else {
    f.querySelector('[data-value]').value = value;
    const mirror = f.querySelector('[data-mirror]');
    if (mirror) mirror.value = value;
  }
  f.querySelector('[data-value]')?.dispatchEvent(new Event('input', { bubbles: true }));
}

function numberOf(box, name) { return Number(field(box, name)?.querySelector('[data-value]')?.value || 0); }

// an image of the input, in a stage that maps pointer positions to the image's own pixels
function stage(file, label) {
  const img = el('img', { src: URL.createObjectURL(file), alt: label, draggable: 'false' });
  const wrap = el('div', { class: 'stage' }, img);
  const toPixels = (event) => {
    const r = img.getBoundingClientRect();
    const x = Math.min(Math.max(event.clientX - r.left, 0), r.width);
    const y = Math.min(Math.max(event.clientY - r.top, 0), r.height);
    return [x, y, img.naturalWidth / r.width, img.naturalHeight / r.height];
  };
  return { img, wrap, toPixels };
}

function regionControl(host, box, file) {
  const s = stage(file, 'Draw the area on the image');
  const rect = el('div', { class: 'region', hidden: true });
  s.wrap.append(rect);
  host.replaceChildren(el('p', { class: 'hint', text: 'Drag on the image to draw the area.' }), s.wrap);
  let start = null;
  const draw = (a, b, scale) => {
    const [x0, y0] = a; const [x1, y1] = b;
    const left = Math.min(x0, x1); const top = Math.min(y0, y1);
    rect.hidden = false;
    rect.style.left = `${left}px`; rect.style.top = `${top}px`;
    rect.style.width = `${Math.abs(x1 - x0)}px`; rect.style.height = `${Math.abs(y1 - y0)}px`;
    if (field(box, 'unit')) setValue(box, 'unit', 'px');
    setValue(box, 'left', Math.round(left * scale[0]));
    setValue(box, 'top', Math.round(top * scale[1]));
    setValue(box, 'width', Math.max(1, Math.round(Math.abs(x1 - x0) * scale[0])));
    setValue(box, 'height', Math.max(1, Math.round(Math.abs(y1 - y0) * scale[1])));
  };
  s.img.addEventListener('pointerdown', (e) => { e.preventDefault(); s.img.setPointerCapture(e.pointerId); start = s.toPixels(e); });
  s.img.addEventListener('pointermove', (e) => { if (start) { const p = s.toPixels(e); draw(start, p, [p[2], p[3]]); } });
  s.img.addEventListener('pointerup', () => { start = null; });
}

function pointControl(host, box, file) {
  const s = stage(file, 'Click where it goes');
  const dot = el('div', { class: 'point', hidden: true });
  s.wrap.append(dot);
  host.replaceChildren(el('p', { class: 'hint', text: 'Click on the image to place it (its top-left corner).' }), s.wrap);
  s.img.addEventListener('click', (e) => {
    const [x, y, sx, sy] = s.toPixels(e);
    dot.hidden = false; dot.style.left = `${x}px`; dot.style.top = `${y}px`;
    setValue(box, 'x', Math.round(x * sx));
    setValue(box, 'y', Math.round(y * sy));
  });
}

function timelineControl(host, box, file) {
  const media = el(file.type.startsWith('audio') ? 'audio' : 'video', { src: URL.createObjectURL(file), controls: true, preload: 'metadata', class: 'preview-media' });
  const startRange = el('input', { type: 'range', min: '0', max: '1', step: '0.01', value: '0', 'aria-label': 'Start of the cut' });
  const endRange = el('input', { type: 'range', min: '0', max: '1', step: '0.01', value: '1', 'aria-label': 'End of the cut' });
  const readout = el('span', { class: 'hint' });
  const atStart = el('button', { type: 'button', class: 'ghost', text: 'Start here' });
  const atEnd = el('button', { type: 'button', class: 'ghost', text: 'End here' });
  const sync = () => {
    let a = Number(startRange.value); let b = Number(endRange.value);
    if (a > b) [a, b] = [b, a];
    setValue(box, 'startS', a.toFixed(2));
    setValue(box, 'endS', b.toFixed(2));
    readout.textContent = `${a.toFixed(2)} s → ${b.toFixed(2)} s (${(b - a).toFixed(2)} s)`;
  };
  media.addEventListener('loadedmetadata', () => {
    const d = Number.isFinite(media.duration) ? media.duration : 0;
    for (const r of [startRange, endRange]) r.max = String(d);
    startRange.value = String(numberOf(box, 'startS') || 0);
    endRange.value = String(Math.min(d, numberOf(box, 'endS') || d));
    sync();
  });
  startRange.addEventListener('input', () => { media.currentTime = Number(startRange.value); sync(); });
  endRange.addEventListener('input', () => { media.currentTime = Number(endRange.value); sync(); });
  atStart.addEventListener('click', () => { startRange.value = String(media.currentTime); sync(); });
  atEnd.addEventListener('click', () => { endRange.value = String(media.currentTime); sync(); });
  host.replaceChildren(media, el('div', { class: 'timeline' }, startRange, endRange), el('div', { class: 'actions' }, atStart, atEnd, readout));
}

// paint the area to erase; the mask (white = erase, at the image's own size) is sent as the "mask" input
function maskControl(host, file, state) {
  const s = stage(file, 'Paint over what to erase');
  const canvas = el('canvas', { class: 'mask-canvas' });
  s.wrap.append(canvas);
  const brush = el('input', { type: 'range', min: '4', max: '120', value: '30', 'aria-label': 'Brush size' });
  const clear = el('button', { type: 'button', class: 'ghost', text: 'Clear mask' });
  host.replaceChildren(el('p', { class: 'hint', text: 'Paint over what to erase (or drop a mask file below).' }), s.wrap,
    el('div', { class: 'actions' }, el('label', { class: 'check' }, 'Brush ', brush), clear));
  const ctx = canvas.getContext('2d');
  s.img.addEventListener('load', () => { canvas.width = s.img.naturalWidth; canvas.height = s.img.naturalHeight; });
  let painting = false;
  const paint = (e) => {
    const [x, y, sx, sy] = s.toPixels(e);
    ctx.fillStyle = 'rgba(255, 40, 90, 0.55)';
    ctx.beginPath();
    ctx.arc(x * sx, y * sy, (Number(brush.value) / 2) * sx, 0, Math.PI * 2);
    ctx.fill();
    state.painted = true;
  };
  canvas.addEventListener('pointerdown', (e) => { painting = true; canvas.setPointerCapture(e.pointerId); paint(e); });
  canvas.addEventListener('pointermove', (e) => { if (painting) paint(e); });
  canvas.addEventListener('pointerup', () => { painting = false; });
  clear.addEventListener('click', () => { ctx.clearRect(0, 0, canvas.width, canvas.height); state.painted = false; });
  state.maskFile = async () => {
    const out = document.createElement('canvas');
    out.width = canvas.width; out.height = canvas.height;
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const d = pixels.data;
    for (let i = 0; i < d.length; i += 4) {
      const v = d[i + 3] > 0 ? 255 : 0;
      d[i] = v; d[i + 1] = v; d[i + 2] = v; d[i + 3] = 255;
    }
    out.getContext('2d').putImageData(pixels, 0, 0);
    const blob = await new Promise((resolve) => out.toBlob(resolve, 'image/png'));
    return new File([blob], 'mask.png', { type: 'image/png' });
  };
}

// qpdf page syntax from page numbers: [1,2,3,5] -> "1-3,5" (selection); order keeps the given order
function ranges(numbers) {
  const parts = [];
  for (let i = 0; i < numbers.length; i++) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    parts.push(j > i ? `${numbers[i]}-${numbers[j]}` : `${numbers[i]}`);
    i = j;
  }
  return parts.join(',');
}

const MAX_THUMBS = 60;

const HINTS = { order: 'Put the pages in their new order.', rotate: 'Turn each page that needs it.', select: 'Select the pages.' };

// a page's thumbnail with its own turn: ↺ and ↻ by a quarter, shown turned; the field holds {page: angle}
function turnable(p, img, onTurn) {
  const turn = (by) => { p.angle = (p.angle + by + 360) % 360; onTurn(); };
  img.style.transform = p.angle ? `rotate(${p.angle}deg)` : '';
  return [el('span', { class: 'turned' }, img),
    el('span', { text: p.angle ? `p. ${p.n} · ${p.angle}°` : `p. ${p.n}` }),
    el('span', { class: 'moves' },
      el('button', { type: 'button', class: 'link', text: '↺', 'aria-label': `Turn page ${p.n} left`, onclick: () => turn(-90) }),
      el('button', { type: 'button', class: 'link', text: '↻', 'aria-label': `Turn page ${p.n} right`, onclick: () => turn(90) }))];
}

// PDF page thumbnails (the server's pdf-to-image/preview, one small image per page): select pages, put
// them in order (the page-list field gets the qpdf syntax), or turn each one (the field gets {page: angle})
async function pagesControl(host, box, file, fieldName, mode) {
  host.replaceChildren(el('p', { class: 'hint', text: 'Loading the pages…' }));
  const thumb = async (page) => {
    const form = new FormData();
    form.append('file', file, file.name);
    form.append('settings', JSON.stringify({ page, dpi: 24, format: 'webp', quality: 60 }));
    const response = await request('/api/v1/tools/pdf/pdf-to-image/preview', { method: 'POST', form });
    return { url: URL.createObjectURL(await response.blob()), count: Number(response.headers.get('X-Page-Count') || 1) };
  };
  let first;
  try { first = await thumb(1); } catch { host.replaceChildren(el('p', { class: 'hint', text: 'No page preview for this PDF.' })); return; }
  const count = Math.min(first.count, MAX_THUMBS);
  const pages = Array.from({ length: count }, (_, i) => ({ n: i + 1, url: i === 0 ? first.url : null, on: mode === 'order', angle: 0 }));
  const grid = el('ol', { class: 'pages', 'aria-label': mode === 'order' ? 'Pages in their new order' : 'Pages' });
  const write = () => {
    if (mode === 'rotate') {
      const turned = Object.fromEntries(pages.filter((p) => p.angle).map((p) => [String(p.n), p.angle]));
      setValue(box, fieldName, Object.keys(turned).length ? JSON.stringify(turned) : '');
      return;
    }
    const chosen = pages.filter((p) => p.on).map((p) => p.n);
    setValue(box, fieldName, mode === 'order' ? chosen.join(',') : ranges(chosen.sort((a, b) => a - b)));
  };
  const draw = () => {
    grid.replaceChildren(...pages.map((p, i) => {
      const img = el('img', { alt: '', src: p.url || undefined, width: '60' });
      const item = el('li', { class: 'page' + (p.on ? ' on' : '') });
      if (mode === 'rotate') {
        item.append(...turnable(p, img, () => { draw(); write(); }));
      } else if (mode === 'order') {
        item.append(img, el('span', { text: `p. ${p.n}` }), el('span', { class: 'moves' },
          el('button', { type: 'button', class: 'link', text: '←', disabled: i === 0, 'aria-label': `Move page ${p.n} earlier`, onclick: () => { pages.splice(i - 1, 0, ...pages.splice(i, 1)); draw(); write(); } }),
          el('button', { type: 'button', class: 'link', text: '→', disabled: i === pages.length - 1, 'aria-label': `Move page ${p.n} later`, onclick: () => { pages.splice(i + 1, 0, ...pages.splice(i, 1)); draw(); write(); } })));
      } else {
        item.append(el('button', { type: 'button', class: 'page-toggle', 'aria-pressed': p.on ? 'true' : 'false', 'aria-label': `Page ${p.n}`,
          onclick: () => { p.on = !p.on; draw(); write(); } }, img, el('span', { text: String(p.n) })));
      }
      return item;
    }));
  };
  draw();
  host.replaceChildren(el('p', { class: 'hint', text: HINTS[mode] }), grid);
  if (first.count > MAX_THUMBS) host.append(el('p', { class: 'hint', text: `The first ${MAX_THUMBS} of ${first.count} pages; type the rest in the field.` }));
  if (mode === 'order') write();
  for (const p of pages.slice(1)) {
    try { p.url = (await thumb(p.n)).url; draw(); } catch { break; }
  }
}

export function attach(form, box) {
  const host = el('div', { class: 'control', id: 'control' });
  const has = (...names) => names.every((n) => field(box, n));
  const roles = [...form.querySelectorAll('.drop-role')].map((z) => z.dataset.role);
  let kind = null;
  // a tool with several page fields gets the richest picker (rotate-pdf: turn each page, not select a range)
  const pageField = box.querySelector('[data-pages="rotate"]') || box.querySelector('[data-pages]');
  if (pageField) kind = 'pages';
  else if (roles.includes('mask')) kind = 'mask';
  else if (has('left', 'top', 'width', 'height')) kind = 'region';
  else if (has('startS', 'endS')) kind = 'timeline';
  else if (has('x', 'y')) kind = 'point';
  const position = field(box, 'position');
  const places = position && placesOf([...position.querySelectorAll('option, input[type=radio]')].map((o) => o.value).filter((v) => v !== ''));
  if (!kind && places) kind = 'place';
  const state = { painted: false, maskFile: null };
  if (!kind) return { update() {}, state };
  form.querySelector('.settings-title').before(host);
  return {
    state,
    update(file) {
      if (!file) { host.replaceChildren(); return; }
      const image = file.type.startsWith('image/');
      if (kind === 'region' && image) regionControl(host, box, file);
      else if (kind === 'point' && image) pointControl(host, box, file);
      else if (kind === 'mask' && image) maskControl(host, file, state);
      else if (kind === 'timeline' && /^(video|audio)\//.test(file.type)) timelineControl(host, box, file);
      else if (kind === 'place' && (image || file.type.startsWith('video/') || file.type === 'application/pdf' || /\.pdf$/i.test(file.name))) {
        placeControl(host, box, position, places, file, setValue);
      }
      else if (kind === 'pages' && (file.type === 'application/pdf' || /\.pdf$/i.test(file.name))) {
        pagesControl(host, box, file, pageField.dataset.field, pageField.dataset.pages);
      }
      else host.replaceChildren();
    },
  };
}
