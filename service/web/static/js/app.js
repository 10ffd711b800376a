// Every page: the menu button on narrow screens, and sign-out.
import { request } from './api.js';

const menu = document.querySelector('.menu');
const toggle = menu && menu.querySelector('.menu-toggle');
function setOpen(open) {
  menu.classList.toggle('open', open);
  toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
}
if (toggle) {
  toggle.addEventListener('click', () => setOpen(!menu.classList.contains('open')));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && menu.classList.contains('open')) { setOpen(false); toggle.focus(); }
  });
}

document.addEventListener('click', async (event) => {
  if (menu && menu.classList.contains('open') && !menu.contains(event.target)) setOpen(false);
  const button = event.target.closest('[data-action="logout"]');
  if (!button) return;
  button.disabled = true;
  try { await request('/api/auth/logout', { method: 'POST' }); } finally { location.href = '/login'; }
});
