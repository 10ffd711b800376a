// The app's questions (a new password, a new name, "delete this?") as modal <dialog> forms, not the
// browser's prompt()/confirm(): labelled fields, the server's refusal shown in the dialog (which stays
// open to correct it), Escape to cancel. The dialog is removed when it closes, so a typed secret does not
// stay in the page.
import { el } from './api.js';

let count = 0;

// fields: [{name, label, type, value, attrs}]; run(values) does the work and throws the server's error;
// resolves true when it ran, false when canceled
export function ask({ title, text, fields = [], submit, danger = false, run }) {
  return new Promise((resolve) => {
    const id = `ask-${++count}`;
    const inputs = fields.map((f, i) => [f, el('input', { id: `${id}-${i}`, name: f.name, type: f.type || 'text',
      value: f.value ?? '', required: true, autocomplete: 'off', ...f.attrs })]);
    const error = el('p', { class: 'error', role: 'alert', hidden: true });
    const button = el('button', { type: 'submit', class: danger ? 'danger' : 'primary', text: submit });
    const dialog = el('dialog', { 'aria-labelledby': `${id}-title` });
    const form = el('form', { novalidate: true },
      el('h2', { id: `${id}-title`, text: title }),
      text ? el('p', { text }) : null,
      inputs.map(([f, input]) => el('div', { class: 'field' }, el('label', { for: input.id, text: f.label }), input)),
      error,
      el('div', { class: 'actions' }, button, el('button', { type: 'button', class: 'ghost', text: 'Cancel', onclick: () => dialog.close() })));
    dialog.append(form);
    let ran = false;
    const say = (message, input) => { error.textContent = message; error.hidden = false; input?.focus(); };
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const invalid = inputs.find(([, input]) => !input.checkValidity());
      if (invalid) { say(invalid[1].validationMessage, invalid[1]); return; }
      button.disabled = true;
      try {
        await run(Object.fromEntries(inputs.map(([f, input]) => [f.name, input.value])));
        ran = true;
        dialog.close();
      } catch (err) {
        say(err.message, inputs[0]?.[1]);
      } finally { button.disabled = false; }
    });
    dialog.addEventListener('close', () => { dialog.remove(); resolve(ran); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// "Delete X?": one button does it; a refusal stays in the dialog
export function confirmThen(text, action, submit = 'Delete') {
  return ask({ title: 'Are you sure?', text, submit, danger: true, run: action });
}
