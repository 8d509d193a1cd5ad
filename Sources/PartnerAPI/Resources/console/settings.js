// settings.js — the caller's own setting (whether its restrictions need a verification code),
// and, read-only, the platform's retention policies by customer level.
import { api } from './api.js';
import { append, byId, clear, el, setMessage, notify, placeholderRow } from './dom.js';
import { LEVELS, levelBadge, formatDuration, timeEl } from './format.js';

const state = { saved: null, seq: 0, policiesSeq: 0 };

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
  showCodeField(false);
}

// Turning the requirement off takes a verification code of purpose `settings`: otherwise a
// stolen key could switch off the very check meant to stop it.
function showCodeField(show) {
  byId('settings-code-field').hidden = !show;
  if (!show) {
    byId('settings-code').value = '';
    byId('settings-code-demo').hidden = true;
  }
}

async function sendCode() {
  const button = byId('settings-send-code');
  const hint = byId('settings-code-hint');
  const demo = byId('settings-code-demo');
  button.disabled = true;
  demo.hidden = true;
  setMessage(byId('settings-error'), '');
  hint.textContent = 'Sending the code…';
  try {
    const issued = await api.post('/v1/verification-codes', { purpose: 'settings' });
    hint.textContent = 'Code sent.';
    if (issued && typeof issued.code === 'string' && issued.code) {
      // Demo delivery: show the code, never type it in for the user.
      clear(demo);
      append(demo, 'Demo delivery: your code is ', el('code', { text: issued.code }));
      demo.hidden = false;
    }
    byId('settings-code').focus();
  } catch (error) {
    hint.textContent = '';
    setMessage(byId('settings-error'), error.message);
  } finally {
    button.disabled = false;
  }
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
    const body = { verification_code_required: wanted };
    const code = byId('settings-code').value.trim();
    if (!wanted && code) body.verification_code = code;
    const settings = await api.patch('/v1/settings', body);
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
    const wanted = event.currentTarget.checked;
    byId('settings-save').disabled = wanted === state.saved;
    showCodeField(state.saved === true && !wanted);
  });
  byId('settings-send-code').addEventListener('click', sendCode);
}

function durationCell(seconds) {
  return el('td', { attrs: { title: Number.isFinite(Number(seconds)) ? `${seconds} seconds` : null } }, formatDuration(seconds));
}

async function loadPolicies() {
  const seq = ++state.policiesSeq;
  const table = byId('policies-table');
  const body = byId('policies-body');
  table.setAttribute('aria-busy', 'true');
  clear(body).append(placeholderRow(table, 'Loading the retention policies…'));
  try {
    const answer = await api.get('/v1/retention-policies');
    if (seq !== state.policiesSeq) return;
    const items = (answer && Array.isArray(answer.items) ? answer.items : [])
      .slice()
      .sort((a, b) => LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level));
    clear(body);
    if (!items.length) body.append(placeholderRow(table, 'No retention policies.', 'placeholder empty'));
    for (const policy of items) {
      body.append(el('tr', { dataset: { level: String(policy.level) } },
        el('th', { attrs: { scope: 'row' } }, levelBadge(policy.level)),
        durationCell(policy.freeze_retention_seconds),
        durationCell(policy.prepaid_grace_seconds),
        durationCell(policy.prepaid_retention_seconds),
        el('td', {}, timeEl(policy.updated_at))));
    }
  } catch (error) {
    if (seq !== state.policiesSeq) return;
    clear(body).append(placeholderRow(table, error.message, 'placeholder error'));
  } finally {
    if (seq === state.policiesSeq) table.removeAttribute('aria-busy');
  }
}

export function showSettings() {
  load();
  loadPolicies();
}

export function resetSettings() {
  state.seq += 1;
  state.policiesSeq += 1;
  clear(byId('policies-body'));
  state.saved = null;
  byId('setting-code').checked = false;
  byId('setting-code-state').textContent = '';
  setMessage(byId('settings-error'), '');
  showCodeField(false);
}
