// Every page: sign-out, and the menu closing on Escape or a click outside.
import { request } from './api.js';

document.addEventListener('click', async (event) => {
  const button = event.target.closest('[data-action="logout"]');
  if (button) {
    button.disabled = true;
    try { await request('/api/auth/logout', { method: 'POST' }); } finally { location.href = '/login'; }
  }
  const menu = document.querySelector('details.menu[open]');
  if (menu && !menu.contains(event.target)) menu.open = false;
});
document.addEventListener('keydown', (event) => {
  const menu = document.querySelector('details.menu[open]');
  if (event.key === 'Escape' && menu) { menu.open = false; menu.querySelector('summary').focus(); }
});
