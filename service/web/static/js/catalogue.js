// The catalogue: search by name/id/purpose, recently used tools (localStorage), AI bundle status per tool.
import { api, can, el, toast } from './api.js';

const search = document.getElementById('tool-search');
const items = [...document.querySelectorAll('li.tool')];
const count = document.getElementById('search-count');

function filter() {
  const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const li of items) {
    const match = words.every((w) => li.dataset.search.includes(w));
    li.hidden = !match;
    if (match) shown++;
  }
  for (const group of document.querySelectorAll('.group')) group.hidden = !group.querySelector('li.tool:not([hidden])');
  for (const section of document.querySelectorAll('section.section')) section.hidden = !section.querySelector('li.tool:not([hidden])');
  document.getElementById('no-match').hidden = shown > 0;
  count.textContent = words.length ? `${shown} tool${shown === 1 ? '' : 's'}` : '';
}
search.addEventListener('input', filter);
search.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') {
    const first = items.find((li) => !li.hidden);
    if (first) first.querySelector('a').click();
  }
});

const byId = new Map(items.map((li) => [li.dataset.id, li]));
const recent = JSON.parse(localStorage.getItem('lutra.recent') || '[]').filter((id) => byId.has(id));
if (recent.length) {
  const box = document.getElementById('recent');
  box.querySelector('ul').append(...recent.map((id) => el('li', {}, el('a', { href: `/tools/${id}`, text: byId.get(id).querySelector('strong').textContent }))));
  box.hidden = false;
}

// AI tools whose bundle is missing: admins get an install button with the size, others a note
async function bundles() {
  let list;
  try { ({ bundles: list } = await api('/api/v1/features')); } catch { return; }
  for (const bundle of list) {
    if (bundle.installed) continue;
    for (const id of bundle.enabledTools) {
      const li = byId.get(id);
      if (!li || li.querySelector('.badge')) continue;
      if (can('features:manage')) {
        const text = bundle.status === 'installing' ? 'installing…' : `install · ${bundle.sizeHuman}`;
        li.append(el('a', { class: 'badge install', href: `/admin/features#${bundle.id}`, text, 'aria-label': `${text}: ${bundle.name} for ${id}` }));
      } else {
        li.append(el('span', { class: 'badge', text: 'not installed' }));
      }
      li.classList.add('unavailable');
    }
  }
}
bundles().catch((err) => toast(err.message));
