// settings.js — the caller's own setting: whether its restrictions need a verification code.
import { api } from './api.js';
import { byId, setMessage, notify } from './dom.js';

const state = { saved: null, seq: 0 };

function describe(required) {
  return required
    ? 'On: a verification code is required to restrict or unrestrict customers.'
    : 'Off: no verification code is required.';
}

function render(required) {
  state.saved = required;
  byId('setting-code').checked = required;
  byId('setting-code-state').textContent = describe(required);
  byId('settings-save').disabled = true;
}

async function load() {
  const seq = ++state.seq;
  const toggle = byId('setting-code');
  toggle.disabled = true;
  setMessage(byId('settings-error'), '');
  byId('setting-code-state').textContent = 'Loading…';
  try {
    const settings = await api.get('/v1/settings');
    if (seq !== state.seq) return;
    render(Boolean(settings.verification_code_required));
  } catch (error) {
    if (seq !== state.seq) return;
    byId('setting-code-state').textContent = '';
    setMessage(byId('settings-error'), error.message);
  } finally {
    if (seq === state.seq) toggle.disabled = false;
  }
}

async function save(event) {
  event.preventDefault();
  const toggle = byId('setting-code');
  const button = byId('settings-save');
  const wanted = toggle.checked;
  if (wanted === state.saved) return;
  button.disabled = true;
  toggle.disabled = true;
  setMessage(byId('settings-error'), '');
  try {
    const settings = await api.patch('/v1/settings', { verification_code_required: wanted });
    render(Boolean(settings.verification_code_required));
    notify('Settings saved.', 'success', describe(Boolean(settings.verification_code_required)));
  } catch (error) {
    setMessage(byId('settings-error'), error.message);
    button.disabled = false;
  } finally {
    toggle.disabled = false;
  }
}

export function initSettings() {
  byId('settings-form').addEventListener('submit', save);
  byId('setting-code').addEventListener('change', (event) => {
    byId('settings-save').disabled = event.currentTarget.checked === state.saved;
  });
}

export function showSettings() {
  load();
}

export function resetSettings() {
  state.seq += 1;
  state.saved = null;
  byId('setting-code').checked = false;
  byId('setting-code-state').textContent = '';
  setMessage(byId('settings-error'), '');
}
