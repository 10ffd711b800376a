// A generated settings form (templates/_field.html): slider/number mirroring, colour picker mirroring,
// fields shown only while their `data-when` condition holds, values collected as typed JSON, and the
// server's 400 `details` shown next to the field they name.

function valueOf(field) {
  const kind = field.dataset.kind;
  if (field.dataset.widget === 'segmented') {
    const checked = field.querySelector('input[type=radio]:checked');
    if (!checked) return undefined;
    return kind === 'integer' ? Number(checked.value) : checked.value;
  }
  const input = field.querySelector('[data-value]');
  if (kind === 'boolean') return input.checked;
  const raw = input.value.trim();
  if (raw === '') return field.dataset.nullable || input.tagName === 'SELECT' ? null : undefined;
  if (kind === 'integer' || kind === 'number') return Number(raw);
  if (kind === 'json') {
    try { return JSON.parse(raw); } catch { throw fieldError(field, 'Not valid JSON.'); }
  }
  return raw;
}

function fieldError(field, message) {
  const err = new Error(message);
  err.field = field;
  return err;
}

export function applies(container, field) {
  if (!field.dataset.when) return true;
  const when = JSON.parse(field.dataset.when);
  return Object.entries(when).every(([name, values]) => {
    const other = container.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!other) return true;
    const value = valueOf(other);
    return values.some((v) => String(v) === String(value));
  });
}

export function refresh(container) {
  for (const field of container.querySelectorAll('[data-field]')) field.hidden = !applies(container, field);
}

export function collect(container) {
  clearErrors(container);
  const settings = {};
  for (const field of container.querySelectorAll('[data-field]')) {
    if (field.hidden) continue;
    const value = valueOf(field);
    if (value === undefined) continue;
    if (value === null && !field.dataset.nullable && field.querySelector('select')) continue;
    settings[field.dataset.field] = value;
  }
  return settings;
}

export function clearErrors(container) {
  for (const p of container.querySelectorAll('.field-error')) { p.hidden = true; p.textContent = ''; }
  for (const f of container.querySelectorAll('[aria-invalid]')) f.removeAttribute('aria-invalid');
}

// `details` are [{path, message}]; returns the messages no field claimed
export function showErrors(container, details) {
  const rest = [];
  let first = null;
  for (const d of details || []) {
    const name = String(d.path || '').split('.')[0];
    const field = name && container.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!field || field.hidden) { rest.push(d.message); continue; }
    const p = field.querySelector('.field-error');
    p.textContent = d.message;
    p.hidden = false;
    const input = field.querySelector('[data-value]');
    if (input) { input.setAttribute('aria-invalid', 'true'); first = first || input; }
  }
  if (first) first.focus();
  return rest;
}

export function wire(container) {
  container.addEventListener('input', (event) => {
    const t = event.target;
    const field = t.closest('[data-field]');
    if (!field) return;
    if (t.matches('[data-mirror]')) {
      const target = field.querySelector('[data-value]');
      target.value = t.value;
    } else if (t.matches('[data-value]')) {
      const mirror = field.querySelector('[data-mirror]');
      if (mirror && (mirror.type !== 'color' || /^#[0-9a-f]{6}$/i.test(t.value))) mirror.value = t.value;
    }
    refresh(container);
  });
  container.addEventListener('change', () => refresh(container));
  refresh(container);
}
