// Administration pages; each calls only the API its permission opens.
import { ApiError, api, bytes, can, el, toast, when } from './api.js';
import { ask, confirmThen } from './dialog.js';

const root = document.getElementById('admin');
const page = root.dataset.page;

function showError(form, err) {
  const p = form.querySelector('.error') || form.parentElement.querySelector('.error');
  p.textContent = err.message;
  p.hidden = false;
}
function clearError(form) {
  const p = form.querySelector('.error') || form.parentElement.querySelector('.error');
  if (p) p.hidden = true;
}
function options(select, items, selected) {
  select.replaceChildren(...items.map(([value, label]) => el('option', { value, text: label, selected: value === selected })));
}

// ---- users
async function users() {
  const [{ users: list }, { roles }, { teams }] = await Promise.all([
    api('/api/auth/users'), api('/api/v1/roles').catch(() => ({ roles: [{ name: 'admin' }, { name: 'editor' }, { name: 'user' }] })),
    api('/api/v1/teams').catch(() => ({ teams: [] }))]);
  const roleItems = roles.map((r) => [r.name, r.name]);
  const teamItems = teams.map((t) => [t.id, t.name]);
  for (const s of root.querySelectorAll('[data-roles]')) options(s, roleItems, 'user');
  for (const s of root.querySelectorAll('[data-teams]')) options(s, teamItems, teams.find((t) => t.isDefault)?.id);
  const body = document.querySelector('#users tbody');
  body.replaceChildren(...list.map((u) => {
    const role = el('select', { 'aria-label': `Role of ${u.username}` });
    options(role, roleItems, u.role);
    role.addEventListener('change', () => api(`/api/auth/users/${u.id}`, { method: 'PUT', json: { role: role.value } }).then(() => toast('Role changed.'), (e) => { toast(e.message); users(); }));
    const team = el('select', { 'aria-label': `Team of ${u.username}` });
    options(team, teamItems, u.teamId);
    team.addEventListener('change', () => api(`/api/auth/users/${u.id}`, { method: 'PUT', json: { teamId: team.value } }).then(() => toast('Team changed.'), (e) => toast(e.message)));
    return el('tr', {}, el('th', { scope: 'row', text: u.username }), el('td', {}, role), el('td', {}, team),
      el('td', { text: u.disabled ? 'disabled' : u.mustChangePassword ? 'must change password' : 'active' }),
      el('td', {}, el('div', { class: 'actions' },
        el('button', { type: 'button', text: 'Reset password', 'aria-label': `Reset password of ${u.username}`, onclick: async () => {
          const done = await ask({ title: `Reset the password of ${u.username}`, submit: 'Reset password',
            fields: [{ name: 'password', label: 'New password (at least 8 characters)', type: 'password', attrs: { minlength: '8', autocomplete: 'new-password' } }],
            run: ({ password }) => api(`/api/auth/users/${u.id}/reset-password`, { method: 'POST', json: { password } }) });
          if (done) { toast('Password reset.'); users(); }
        } }),
        el('button', { type: 'button', text: u.disabled ? 'Enable' : 'Disable', 'aria-label': `${u.disabled ? 'Enable' : 'Disable'} ${u.username}`,
          onclick: () => api(`/api/auth/users/${u.id}`, { method: 'PUT', json: { disabled: !u.disabled } }).then(users, (e) => toast(e.message)) }),
        el('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete ${u.username}`,
          onclick: () => confirmThen(`Delete the user ${u.username}?`, async () => { await api(`/api/auth/users/${u.id}`, { method: 'DELETE' }); users(); }) }))));
  }));
}
if (page === 'users') {
  const form = document.getElementById('new-user');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError(form.parentElement);
    try {
      await api('/api/auth/register', { method: 'POST', json: {
        username: form.querySelector('#nu-name').value.trim(), password: form.querySelector('#nu-pass').value,
        role: form.querySelector('#nu-role').value, teamId: form.querySelector('#nu-team').value || undefined,
        mustChangePassword: form.querySelector('#nu-must').checked } });
      form.reset();
      toast('User created.');
      users();
    } catch (err) { showError(form.parentElement, err); }
  });
  users().catch((e) => toast(e.message));
}

// ---- teams
async function teams() {
  const { teams: list } = await api('/api/v1/teams');
  document.querySelector('#teams tbody').replaceChildren(...list.map((t) => el('tr', {},
    el('th', { scope: 'row', text: t.name + (t.isDefault ? ' (default)' : '') }), el('td', { text: String(t.memberCount) }),
    el('td', {}, el('div', { class: 'actions' },
      el('button', { type: 'button', text: 'Rename', 'aria-label': `Rename ${t.name}`,
        onclick: () => ask({ title: `Rename the team ${t.name}`, submit: 'Rename',
          fields: [{ name: 'name', label: 'New name', value: t.name, attrs: { maxlength: '100' } }],
          run: async ({ name }) => { await api(`/api/v1/teams/${t.id}`, { method: 'PUT', json: { name: name.trim() } }); teams(); } }) }),
      t.isDefault ? null : el('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete ${t.name}`,
        onclick: () => confirmThen(`Delete the team ${t.name}?`, async () => { await api(`/api/v1/teams/${t.id}`, { method: 'DELETE' }); teams(); }) }))))));
}
if (page === 'teams') {
  const form = document.getElementById('new-team');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError(form);
    try { await api('/api/v1/teams', { method: 'POST', json: { name: form.querySelector('#nt-name').value.trim() } }); form.reset(); teams(); } catch (err) { showError(form, err); }
  });
  teams().catch((e) => toast(e.message));
}

// ---- roles: the 17 permissions as checkboxes
async function roles() {
  const box = document.getElementById('roles');
  const all = box.dataset.all.split(' ');
  const { roles: list } = await api('/api/v1/roles');
  box.replaceChildren(...list.map((r) => {
    const fieldset = el('fieldset', { class: 'perms' }, el('legend', { class: 'sr-only', text: `Permissions of ${r.name}` }),
      all.map((p) => el('label', { class: 'check' }, el('input', { type: 'checkbox', value: p, checked: r.permissions.includes(p), disabled: r.builtin }), ` ${p}`)));
    const save = el('button', { type: 'button', class: 'primary', text: 'Save', 'aria-label': `Save role ${r.name}`, onclick: async () => {
      const permissions = [...fieldset.querySelectorAll('input:checked')].map((i) => i.value);
      try { await api(`/api/v1/roles/${r.id}`, { method: 'PUT', json: { permissions } }); toast('Role saved.'); } catch (e) { toast(e.message); }
    } });
    const remove = el('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete role ${r.name}`,
      onclick: () => confirmThen(`Delete the role ${r.name}?`, async () => { await api(`/api/v1/roles/${r.id}`, { method: 'DELETE' }); roles(); }) });
    return el('section', { class: 'card' }, el('h2', { text: r.name + (r.builtin ? ' (built-in)' : '') }),
      el('p', { class: 'hint', text: `${r.description} · ${r.userCount} user${r.userCount === 1 ? '' : 's'}` }), fieldset,
      r.builtin ? null : el('div', { class: 'actions' }, save, remove));
  }));
}
if (page === 'roles') {
  const form = document.getElementById('new-role');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError(form);
    try {
      await api('/api/v1/roles', { method: 'POST', json: { name: form.querySelector('#nr-name').value.trim(), description: form.querySelector('#nr-desc').value,
        permissions: [...form.querySelectorAll('[data-perms] input:checked')].map((i) => i.value) } });
      form.reset(); roles();
    } catch (err) { showError(form, err); }
  });
  roles().catch((e) => toast(e.message));
}

// ---- settings, with the disabled tools
if (page === 'settings') {
  const form = document.getElementById('settings-form');
  const load = async () => {
    const { settings } = await api('/api/v1/settings');
    for (const input of form.querySelectorAll('[data-key]')) {
      const value = settings[input.dataset.key];
      if (input.type === 'checkbox') input.checked = !!value; else input.value = value ?? '';
    }
    const disabled = new Set(settings.disabledTools || []);
    for (const box of form.querySelectorAll('#disabled-tools input')) box.checked = disabled.has(box.value);
  };
  if (!can('settings:write')) for (const i of form.querySelectorAll('input, button[data-write]')) i.disabled = true;
  form.querySelector('#filter-tools').disabled = false;
  form.querySelector('#filter-tools').addEventListener('input', (e) => {
    const q = e.target.value.toLowerCase();
    for (const label of form.querySelectorAll('[data-filter]')) label.hidden = !label.dataset.filter.includes(q);
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError(form);
    const updates = { disabledTools: [...form.querySelectorAll('#disabled-tools input:checked')].map((i) => i.value) };
    for (const input of form.querySelectorAll('[data-key]')) updates[input.dataset.key] = input.type === 'checkbox' ? input.checked : Number(input.value);
    try { await api('/api/v1/settings', { method: 'PUT', json: updates }); toast('Settings saved.'); } catch (err) { showError(form, err); }
  });
  load().catch((e) => toast(e.message));
}

// ---- AI features: install with progress, uninstall, disk usage
async function features() {
  const [{ bundles }, disk] = await Promise.all([api('/api/v1/features'), api('/api/v1/admin/features/disk-usage').catch(() => null)]);
  if (disk) document.getElementById('disk').textContent = `Models use ${disk.totalHuman} on disk.`;
  document.querySelector('#bundles tbody').replaceChildren(...bundles.map((b) => {
    const status = el('td', { text: b.status.replace('_', ' ') });
    const bar = el('progress', { max: '100', value: '0', hidden: true, 'aria-label': `Installing ${b.name}` });
    status.append(bar);
    const install = el('button', { type: 'button', class: 'primary', text: 'Install', 'aria-label': `Install ${b.name}`, onclick: async () => {
      install.disabled = true;
      try {
        const job = await api(`/api/v1/admin/features/${b.id}/install`, { method: 'POST', json: {} });
        bar.hidden = false;
        const source = new EventSource(job.progressUrl);
        source.onmessage = (event) => {
          const f = JSON.parse(event.data);
          bar.value = f.progress || 0;
          status.firstChild.textContent = `${Math.round(f.progress || 0)} % ${f.message || ''} `;
          if (['completed', 'failed', 'canceled'].includes(f.status)) {
            source.close();
            if (f.status !== 'completed') toast(f.error || 'The install failed.');
            features();
          }
        };
      } catch (e) { install.disabled = false; toast(e.message); }
    } });
    const uninstall = el('button', { type: 'button', class: 'danger', text: 'Uninstall', 'aria-label': `Uninstall ${b.name}`,
      onclick: () => confirmThen(`Uninstall ${b.name}?`, async () => { await api(`/api/v1/admin/features/${b.id}/uninstall`, { method: 'POST', json: {} }); features(); }, 'Uninstall') });
    return el('tr', { id: b.id }, el('th', { scope: 'row' }, el('span', { text: b.name }), el('br'), el('span', { class: 'hint', text: b.description })),
      el('td', { text: b.enabledTools.join(', ') }), el('td', { text: b.sizeHuman }), status,
      el('td', {}, b.installed ? uninstall : b.status === 'installing' ? null : install));
  }));
}
if (page === 'features') features().catch((e) => toast(e.message));

// ---- audit log
if (page === 'audit') {
  const LIMIT = 50;
  let p = 1;
  const form = document.getElementById('audit-filter');
  const load = async () => {
    const params = new URLSearchParams({ page: p, limit: LIMIT });
    const action = form.querySelector('#au-action').value.trim();
    if (action) params.set('action', action);
    if (form.querySelector('#au-from').value) params.set('from', form.querySelector('#au-from').value);
    if (form.querySelector('#au-to').value) params.set('to', `${form.querySelector('#au-to').value}T23:59:59Z`);
    const { entries, total } = await api(`/api/v1/audit-log?${params}`);
    document.querySelector('#audit tbody').replaceChildren(...entries.map((e) => el('tr', {},
      el('td', { text: when(e.createdAt) }), el('td', { text: e.action }), el('td', { text: e.actorName || '' }), el('td', { text: e.target || '' }), el('td', { text: e.ip || '' }))));
    const pages = Math.max(1, Math.ceil(total / LIMIT));
    document.getElementById('page-info').textContent = `Page ${p} of ${pages} · ${total} entries`;
    document.getElementById('prev').disabled = p <= 1;
    document.getElementById('next').disabled = p >= pages;
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); p = 1; load().catch((err) => toast(err.message)); });
  document.getElementById('prev').addEventListener('click', () => { p--; load(); });
  document.getElementById('next').addEventListener('click', () => { p++; load(); });
  load().catch((e) => toast(e.message));
}

// ---- health
function tree(value) {
  if (value === null || typeof value !== 'object') return el('span', { text: String(value) });
  if (Array.isArray(value)) return el('ul', {}, value.map((v) => el('li', {}, tree(v))));
  return el('dl', { class: 'extras' }, Object.entries(value).map(([k, v]) => [el('dt', { text: k }), el('dd', {}, tree(v))]));
}
if (page === 'health') {
  api('/api/v1/admin/health').then((h) => {
    const box = document.getElementById('health');
    box.replaceChildren(...Object.entries(h).map(([k, v]) => el('section', { class: 'card' }, el('h2', { text: k }), tree(v))));
  }, (e) => toast(e.message));
}

// ---- branding: name and logo, shown in the header and on the sign-in page
if (page === 'branding') {
  const form = document.getElementById('branding');
  let logo = null;
  form.querySelector('#brand-logo').addEventListener('change', (event) => {
    const file = event.target.files[0];
    if (!file) return;
    if (file.size > 220 * 1024) { toast(`The logo is ${bytes(file.size)}; at most 220 KB.`); event.target.value = ''; return; }
    const reader = new FileReader();
    reader.onload = () => { logo = reader.result; const img = document.getElementById('logo-preview'); img.src = logo; img.hidden = false; };
    reader.readAsDataURL(file);
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError(form);
    const updates = { brandName: form.querySelector('#brand-name').value };
    if (form.querySelector('#remove-logo').checked) updates.brandLogo = '';
    else if (logo) updates.brandLogo = logo;
    try { await api('/api/v1/settings', { method: 'PUT', json: updates }); location.reload(); } catch (err) {
      showError(form, err instanceof ApiError && err.details.length ? { message: err.details.map((d) => `${d.path}: ${d.message}`).join('; ') } : err);
    }
  });
}
