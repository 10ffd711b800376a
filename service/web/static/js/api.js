// The public API, called with the session cookie; state-changing calls carry the page's CSRF token.
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `Request failed (${status})`);
    this.status = status;
    this.code = body && body.code;
    this.details = (body && body.details) || [];
    this.body = body;
  }
}

export async function request(path, { method = 'GET', json, form, headers = {}, signal } = {}) {
  const init = { method, headers: { ...headers }, credentials: 'same-origin', signal };
  if (method !== 'GET' && method !== 'HEAD') init.headers['X-CSRF-Token'] = csrf;
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  const response = await fetch(path, init);
  if (response.status === 401 && !path.startsWith('/api/auth/login')) {
    location.href = '/login?next=' + encodeURIComponent(location.pathname + location.search);
    throw new ApiError(401, { error: 'Signed out' });
  }
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, body);
  }
  return response;
}

export async function api(path, options) {
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}

export function can(permission) {
  return (document.body.dataset.perms || '').split(' ').includes(permission);
}

export function toast(text) {
  const el = document.querySelector('.toast');
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
  clearTimeout(el._timer);
  el._timer = setTimeout(() => { el.hidden = true; }, 4000);
}

export function bytes(n) {
  if (n == null) return '';
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i && n < 10 ? 1 : 0)} ${units[i]}`;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) if (c != null && c !== false) node.append(c);
  return node;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}
