// Click to place, for a `position` field of named places (top-left … bottom-right, center; or the short
// tl … br): a click on the input's preview picks the named place nearest to it, and the preview marks it.
import { el, request } from './api.js';

const AXIS = { top: ['y', 0], bottom: ['y', 1], left: ['x', 0], right: ['x', 1] };
const SHORT = { t: 0, c: 0.5, b: 1, l: 0, r: 1 };

// 'top-left' -> {x: 0, y: 0}; 'center' -> {x: .5, y: .5}; 'bc' -> {x: .5, y: 1}; 'tiled' -> null
export function anchorOf(name) {
  const text = String(name);
  if (/^[tcb][lcr]$/.test(text)) return { x: SHORT[text[1]], y: SHORT[text[0]] };
  const at = { x: 0.5, y: 0.5 };
  for (const word of text.split('-')) {
    if (word === 'center' || word === 'middle') continue;
    if (!AXIS[word]) return null;
    const [axis, value] = AXIS[word];
    at[axis] = value;
  }
  return at;
}

// the field's places, when it holds a corner (both axes): top/center/bottom alone is no place on a picture
export function placesOf(options) {
  const places = options.map((o) => ({ value: o, at: anchorOf(o) })).filter((p) => p.at);
  return places.some((p) => p.at.x !== 0.5 && p.at.y !== 0.5) ? places : null;
}

function nearest(places, x, y) {
  const distance = (p) => (p.at.x - x) ** 2 + (p.at.y - y) ** 2;
  return places.reduce((best, p) => (distance(p) < distance(best) ? p : best));
}

// the picture to click on: the image itself, a PDF's first page (the server renders it), a video's frame
async function picture(file) {
  if (file.type.startsWith('image/')) return el('img', { src: URL.createObjectURL(file), alt: 'The input: click where it goes', draggable: 'false' });
  if (file.type.startsWith('video/')) {
    const video = el('video', { src: URL.createObjectURL(file), muted: true, preload: 'auto', 'aria-label': 'The input: click where it goes' });
    video.addEventListener('loadedmetadata', () => { video.currentTime = Math.min(0.5, video.duration / 2 || 0); }, { once: true });
    return video;
  }
  const form = new FormData();
  form.append('file', file, file.name);
  form.append('settings', JSON.stringify({ page: 1, dpi: 48, format: 'webp', quality: 70 }));
  const response = await request('/api/v1/tools/pdf/pdf-to-image/preview', { method: 'POST', form });
  return el('img', { src: URL.createObjectURL(await response.blob()), alt: 'The first page: click where it goes', draggable: 'false' });
}

export async function placeControl(host, box, field, places, file, setValue) {
  host.placing?.abort(); // the listeners of the previous input's picture
  const placing = new AbortController();
  host.placing = placing;
  let shown;
  try { shown = await picture(file); } catch { host.replaceChildren(); return; }
  if (placing.signal.aborted) return; // another file came meanwhile
  const marker = el('div', { class: 'anchor', 'aria-hidden': 'true' });
  const wrap = el('div', { class: 'stage place' }, shown, marker);
  const status = el('p', { class: 'hint', 'aria-live': 'polite' });
  host.replaceChildren(el('p', { class: 'hint', text: 'Click on the picture to place it.' }), wrap, status);
  const input = field.querySelector('[data-value]');
  const current = () => (field.dataset.widget === 'segmented' ? field.querySelector('input:checked')?.value : input?.value);
  const mark = () => {
    const place = places.find((p) => String(p.value) === String(current()));
    marker.hidden = !place;
    status.textContent = place ? `Position: ${place.value}` : `Position: ${current() || 'none'}`;
    if (!place) return;
    const { x, y } = place.at;
    marker.style.left = `${x * 100}%`;
    marker.style.top = `${y * 100}%`;
    marker.style.transform = `translate(${-x * 100}%, ${-y * 100}%)`;
    marker.textContent = place.value;
  };
  shown.addEventListener('click', (event) => {
    const r = shown.getBoundingClientRect();
    const place = nearest(places, (event.clientX - r.left) / r.width, (event.clientY - r.top) / r.height);
    setValue(box, field.dataset.field, place.value);
    mark();
  });
  field.addEventListener('input', mark, { signal: placing.signal });
  field.addEventListener('change', mark, { signal: placing.signal });
  mark();
}
