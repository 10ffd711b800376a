import { api } from './api.js';

const form = document.getElementById('login');
const error = document.getElementById('login-error');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.hidden = true;
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    error.textContent = 'Enter your username and password.';
    error.hidden = false;
    return;
  }
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    const body = await api('/api/auth/login', { method: 'POST', json: { username, password, cookie: true } });
    form.password.value = '';
    // a user who must change the password is sent on to that page by the server
    location.href = body.user ? (form.dataset.next || '/') : '/';
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
    form.password.value = '';
    form.password.focus();
  } finally {
    button.disabled = false;
  }
});
