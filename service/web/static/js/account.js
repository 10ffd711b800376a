// Change password (also the forced change after first sign-in) and API keys: create (shown once), list, delete.
import { api, el, toast, when } from './api.js';
import { confirmThen } from './dialog.js';

const pw = document.getElementById('change-password');
if (pw) {
  pw.addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = pw.querySelector('.error');
    error.hidden = true;
    const current = pw.querySelector('#current-password');
    const next = pw.querySelector('#new-password');
    const repeat = pw.querySelector('#repeat-password');
    const problem = !current.value ? 'Enter your current password.' : next.value.length < 8 ? 'The new password needs at least 8 characters.'
      : next.value !== repeat.value ? 'The two new passwords differ.' : null;
    if (problem) { error.textContent = problem; error.hidden = false; return; }
    try {
      await api('/api/auth/change-password', { method: 'POST', json: { currentPassword: current.value, newPassword: next.value } });
      for (const input of [current, next, repeat]) input.value = '';
      if (pw.dataset.forced === 'true' || location.pathname === '/change-password') { location.href = '/'; return; }
      toast('Password changed. Your API keys were revoked.');
      loadKeys();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
}

const table = document.getElementById('keys');
async function loadKeys() {
  if (!table) return;
  const { apiKeys } = await api('/api/v1/api-keys');
  table.tBodies[0].replaceChildren(...apiKeys.map((k) => el('tr', {},
    el('td', { text: k.name }), el('td', { text: when(k.createdAt) }), el('td', { text: when(k.lastUsedAt) || 'never' }),
    el('td', { text: k.expiresAt ? when(k.expiresAt) + (k.expired ? ' (expired)' : '') : 'never' }),
    el('td', {}, el('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete key ${k.name}`,
      onclick: () => confirmThen(`Delete the key "${k.name}"? Scripts using it stop working.`, async () => {
        await api(`/api/v1/api-keys/${k.id}`, { method: 'DELETE' });
        loadKeys();
      }) })))));
  document.getElementById('no-keys').hidden = apiKeys.length > 0;
}

const create = document.getElementById('new-key');
if (create) {
  const box = document.getElementById('new-secret');
  const value = document.getElementById('secret-value');
  create.addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = document.getElementById('key-error');
    error.hidden = true;
    const name = create.querySelector('#key-name').value.trim();
    const days = create.querySelector('#key-days').value;
    if (!name) { error.textContent = 'Give the key a name.'; error.hidden = false; return; }
    try {
      const body = await api('/api/v1/api-keys', { method: 'POST', json: { name, ...(days ? { expiresInDays: Number(days) } : {}) } });
      value.textContent = body.key;
      box.hidden = false;
      create.reset();
      document.getElementById('copy-key').focus();
      loadKeys();
    } catch (err) { error.textContent = err.message; error.hidden = false; }
  });
  document.getElementById('copy-key').addEventListener('click', async () => {
    try { await navigator.clipboard.writeText(value.textContent); toast('Copied.'); } catch {
      const range = document.createRange(); range.selectNodeContents(value);
      getSelection().removeAllRanges(); getSelection().addRange(range); toast('Selected: press Ctrl+C.');
    }
  });
  // the key leaves the page once it has been copied
  document.getElementById('hide-key').addEventListener('click', () => { value.textContent = ''; box.hidden = true; });
  loadKeys().catch((err) => toast(err.message));
}
