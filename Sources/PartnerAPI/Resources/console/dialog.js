// dialog.js — the modal dialogs: the restrict/unrestrict operation (one customer or a batch),
// the agreement text, and a plain confirmation. Native <dialog> with showModal(): the browser
// traps focus and Esc cancels; we focus the first field on open and give focus back on close.
import { api, seg } from './api.js';
import { el, append, clear, byId, setMessage, notify } from './dom.js';
import { OPERATIONS, RESTRICTION_TYPES, formatDate, plural } from './format.js';

const REASON_MAX = 256;
const RESEND_SECONDS = 30;

/** Gives focus back to the element that opened a dialog, or to a fallback if it is gone. */
function restoreFocus(opener, fallback) {
  if (opener && opener.isConnected && !opener.disabled && !opener.closest('[hidden]')) {
    opener.focus();
    return;
  }
  const other = typeof fallback === 'function' ? fallback() : null;
  if (other) other.focus();
  else byId('main')?.focus();
}

// --- the agreement ------------------------------------------------------------------------

let agreementCache = null;

export function showAgreement(opener) {
  const dialog = byId('agreement-dialog');
  const text = byId('agreement-text');
  const version = byId('agreement-version');
  dialog.addEventListener('close', () => restoreFocus(opener), { once: true });
  dialog.showModal();
  byId('agreement-close').focus();
  const render = (agreement) => {
    byId('agreement-title').textContent = agreement.title || 'Agreement for Partners to Manage Customer Budgets';
    version.textContent = agreement.version ? `Version ${agreement.version}` : '';
    clear(text);
    for (const paragraph of String(agreement.text || '').split(/\n\s*\n/)) {
      if (paragraph.trim()) text.append(el('p', { text: paragraph.trim() }));
    }
  };
  if (agreementCache) {
    render(agreementCache);
    return;
  }
  version.textContent = '';
  clear(text).append(el('p', { className: 'muted', text: 'Loading the agreement…' }));
  api.get('/v1/agreement').then((agreement) => {
    agreementCache = agreement;
    render(agreement);
  }).catch((error) => {
    clear(text).append(el('p', { className: 'form-error', text: error.message }));
  });
}

function wireAgreementDialog() {
  const dialog = byId('agreement-dialog');
  byId('agreement-close').addEventListener('click', () => dialog.close());
}

// --- confirmation -------------------------------------------------------------------------

let confirmState = null;

/**
 * Asks before doing something; `action` runs on OK and its error, if any, is shown in the
 * dialog. Resolves true once the action succeeded, false when cancelled.
 */
export function confirmAction({ title, text, okLabel = 'OK', opener, fallbackFocus, action }) {
  const dialog = byId('confirm-dialog');
  return new Promise((resolve) => {
    confirmState = { action, resolve, done: false };
    byId('confirm-title').textContent = title;
    byId('confirm-text').textContent = text;
    byId('confirm-ok').textContent = okLabel;
    byId('confirm-ok').disabled = false;
    setMessage(byId('confirm-error'), '');
    dialog.addEventListener('close', () => {
      if (confirmState && !confirmState.done) confirmState.resolve(false);
      confirmState = null;
      restoreFocus(opener, fallbackFocus);
    }, { once: true });
    dialog.showModal();
    byId('confirm-cancel').focus();
  });
}

function wireConfirmDialog() {
  const dialog = byId('confirm-dialog');
  byId('confirm-cancel').addEventListener('click', () => dialog.close());
  byId('confirm-ok').addEventListener('click', async () => {
    const state = confirmState;
    if (!state) return;
    const ok = byId('confirm-ok');
    ok.disabled = true;
    setMessage(byId('confirm-error'), '');
    try {
      await state.action();
      state.done = true;
      state.resolve(true);
      dialog.close();
    } catch (error) {
      setMessage(byId('confirm-error'), error.message);
      ok.disabled = false;
    }
  });
}

// --- the operation dialog -----------------------------------------------------------------

const ui = {};
let current = null;
let opening = false; // between the click and showModal (the settings are being read)
let cooldownTimer = null;

function fieldError(input, errorNode, message) {
  setMessage(errorNode, message);
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function clearErrors() {
  fieldError(ui.reason, ui.reasonError, '');
  fieldError(ui.agreement, ui.agreementError, '');
  fieldError(ui.code, ui.codeError, '');
  setMessage(ui.error, '');
}

function updateCounter() {
  const length = ui.reason.value.length;
  ui.counter.textContent = `${length}/${REASON_MAX}`;
  ui.counter.classList.toggle('full', length >= REASON_MAX);
}

function showCodeField(show) {
  current.codeRequired = show;
  ui.codeField.hidden = !show;
}

function stopCooldown() {
  clearInterval(cooldownTimer);
  cooldownTimer = null;
  ui.sendCode.textContent = 'Send code';
  ui.sendCode.disabled = false;
}

function startCooldown() {
  let left = RESEND_SECONDS;
  ui.sendCode.disabled = true;
  const tick = () => {
    if (left <= 0) {
      clearInterval(cooldownTimer);
      cooldownTimer = null;
      ui.sendCode.disabled = false;
      ui.sendCode.textContent = 'Resend code';
      return;
    }
    ui.sendCode.textContent = `Resend code (${left} s)`;
    left -= 1;
  };
  tick();
  cooldownTimer = setInterval(tick, 1000);
}

async function sendCode() {
  if (!current) return;
  const operation = OPERATIONS[current.operation];
  fieldError(ui.code, ui.codeError, '');
  ui.sendCode.disabled = true;
  ui.hint.textContent = 'Sending the code…';
  ui.demo.hidden = true;
  try {
    const issued = await api.post('/v1/verification-codes', { purpose: operation.action });
    if (!current) return;
    const until = issued && issued.expires_at ? ` It is valid until ${formatDate(issued.expires_at)}.` : '';
    ui.hint.textContent = `Code sent.${until}`;
    if (issued && typeof issued.code === 'string' && issued.code) {
      // Demo delivery (the server runs with --verification-code-delivery response): show the
      // code so a demo can go on, but never type it in for the user.
      clear(ui.demo);
      append(ui.demo, 'Demo delivery: your code is ', el('code', { text: issued.code }));
      ui.demo.hidden = false;
    }
    startCooldown();
    ui.code.focus();
  } catch (error) {
    if (!current) return;
    ui.hint.textContent = '';
    fieldError(ui.code, ui.codeError, error.message);
    ui.sendCode.disabled = false;
  }
}

function successDetail(operation, result) {
  if (!result) return '';
  if (operation.action === 'freeze') {
    if (operation.type !== 'purchase_and_resources') return 'Purchases are restricted.';
    const frozen = plural(result.frozen_resources ?? 0, 'pay-per-use resource');
    const until = result.retention_until ? ` They are retained until ${formatDate(result.retention_until)}.` : '';
    return `${frozen} frozen.${until}`;
  }
  const unfrozen = plural(result.unfrozen_resources ?? 0, 'resource');
  const released = result.released_resources
    ? ` ${plural(result.released_resources, 'resource was', 'resources were')} already released and cannot be recovered.`
    : '';
  return `${unfrozen} unfrozen.${released}`;
}

function showServerError(error) {
  setMessage(ui.error, error.message);
  const code = error.code || '';
  if (code.startsWith('verification_code')) {
    if (ui.codeField.hidden) showCodeField(true);
    ui.code.setAttribute('aria-invalid', 'true');
    ui.code.focus();
  } else if (code === 'agreement_required') {
    ui.agreement.setAttribute('aria-invalid', 'true');
    ui.agreement.focus();
  } else if (code === 'reason_required' || (code === 'validation_failed' && /reason/i.test(error.message))) {
    ui.reason.setAttribute('aria-invalid', 'true');
    ui.reason.focus();
  } else {
    ui.ok.focus();
  }
}

function showBatchResults(operation, response) {
  const names = new Map(current.customers.map((customer) => [String(customer.id).toUpperCase(), customer.name]));
  const results = Array.isArray(response && response.results) ? response.results : [];
  const succeeded = results.filter((item) => item.outcome === 'succeeded').length;
  const failed = results.length - succeeded;
  ui.fields.hidden = true;
  ui.impact.hidden = true;
  ui.targets.hidden = true;
  ui.summary.hidden = true;
  clear(ui.resultsList);
  for (const item of results) {
    const name = names.get(String(item.customer_id).toUpperCase()) ?? String(item.customer_id);
    const ok = item.outcome === 'succeeded';
    const detail = ok ? successDetail(operation, item.result) : (item.error && item.error.message) || 'The operation failed.';
    ui.resultsList.append(el('li', { className: `result ${ok ? 'ok' : 'failed'}`, dataset: { customerId: item.customer_id, outcome: item.outcome } },
      el('span', { className: `badge ${ok ? 'ok' : 'danger'}`, text: ok ? 'Succeeded' : 'Failed' }),
      el('span', { className: 'result-name', text: name }),
      el('span', { className: 'result-detail', text: detail })));
  }
  ui.resultsSummary.textContent = failed === 0
    ? `The operation is successful. ${plural(succeeded, 'customer')} updated.`
    : `${succeeded} of ${plural(results.length, 'customer')} succeeded; ${failed} failed.`;
  ui.results.hidden = false;
  ui.ok.hidden = true;
  ui.cancel.textContent = 'Close';
  current.finished = true;
  ui.cancel.focus();
}

async function submit(event) {
  event.preventDefault();
  if (!current || current.busy) return;
  if (current.finished) {
    ui.dialog.close();
    return;
  }
  const operation = OPERATIONS[current.operation];
  clearErrors();

  const reason = ui.reason.value.trim();
  const code = ui.code.value.trim();
  let invalid = null;
  if (!reason) {
    fieldError(ui.reason, ui.reasonError, 'Enter a reason.');
    invalid = invalid || ui.reason;
  }
  if (operation.agreement && !ui.agreement.checked) {
    fieldError(ui.agreement, ui.agreementError, 'Select "I have read and agree to Agreement for Partners to Manage Customer Budgets" to continue.');
    invalid = invalid || ui.agreement;
  }
  if (current.codeRequired && !code) {
    fieldError(ui.code, ui.codeError, 'Enter the verification code. Click Send code to get one.');
    invalid = invalid || ui.code;
  }
  if (invalid) {
    invalid.focus();
    return;
  }

  const body = { type: operation.type, reason };
  if (operation.agreement) body.agreement_accepted = true;
  if (code) body.verification_code = code;
  const single = current.customers.length === 1 && !current.batch;
  const path = single
    ? `/v1/customers/${seg(current.customers[0].id)}/${operation.action}`
    : `/v1/customers/${operation.action}`;
  if (!single) body.customer_ids = current.customers.map((customer) => customer.id);

  const state = current;
  state.busy = true;
  ui.ok.disabled = true;
  ui.ok.setAttribute('aria-busy', 'true');
  ui.ok.textContent = 'Working…';
  try {
    const response = await api.post(path, body);
    if (single) {
      notify('The operation is successful.', 'success', successDetail(operation, response));
      if (current === state) ui.dialog.close();
      state.onDone?.({ operation: state.operation, results: [{ customer_id: state.customers[0].id, outcome: 'succeeded', result: response }] });
    } else {
      if (current === state) showBatchResults(operation, response);
      state.onDone?.({ operation: state.operation, results: response.results || [] });
    }
  } catch (error) {
    if (current === state && error.status !== 401) showServerError(error);
  } finally {
    state.busy = false;
    if (current === state || current === null) {
      ui.ok.disabled = false;
      ui.ok.removeAttribute('aria-busy');
      ui.ok.textContent = 'OK';
    }
  }
}

/**
 * Opens the dialog for `operation` (a key of OPERATIONS) on `customers` ([{id, name}]).
 * `batch` uses the batch endpoint (even for one customer); `onDone({operation, results})`
 * runs after the server applied it; focus goes back to `opener` (or `fallbackFocus()`).
 */
export async function openOperationDialog({ operation, customers, batch = false, opener, fallbackFocus, onDone }) {
  const spec = OPERATIONS[operation];
  if (!spec || !customers.length || ui.dialog.open || opening) return;

  // The caller's own setting decides whether a code is needed; read it fresh each time.
  let codeRequired = false;
  opening = true;
  try {
    const settings = await api.get('/v1/settings');
    codeRequired = Boolean(settings && settings.verification_code_required);
  } catch (error) {
    if (error.status === 401) return;
    codeRequired = false; // the server says so if it needs one; the field then appears
  } finally {
    opening = false;
  }

  current = { operation, customers, batch, opener, fallbackFocus, onDone, busy: false, finished: false, codeRequired };
  ui.form.reset();
  clearErrors();
  stopCooldown();
  ui.title.textContent = batch ? `${spec.label} (${plural(customers.length, 'customer')})` : spec.label;
  clear(ui.summary);
  ui.summary.hidden = false;
  clear(ui.targets);
  if (batch) {
    ui.summary.textContent = `Selected customers (${customers.length}):`;
    for (const customer of customers) ui.targets.append(el('li', { text: customer.name }));
    ui.targets.hidden = false;
  } else {
    append(ui.summary, 'Customer: ', el('strong', { className: 'target-name', text: customers[0].name }));
    const restriction = customers[0].active_restriction;
    if (spec.action === 'unfreeze' && restriction) {
      append(ui.summary, el('br'), `Active restriction: ${RESTRICTION_TYPES[restriction.type] || restriction.type}, since ${formatDate(restriction.applied_at)}`);
    }
    ui.targets.hidden = true;
  }
  ui.impact.textContent = spec.impact;
  ui.impact.hidden = false;
  ui.fields.hidden = false;
  ui.agreementField.hidden = !spec.agreement;
  showCodeField(codeRequired);
  ui.hint.textContent = '';
  clear(ui.demo);
  ui.demo.hidden = true;
  ui.results.hidden = true;
  clear(ui.resultsList);
  ui.ok.hidden = false;
  ui.ok.disabled = false;
  ui.ok.textContent = 'OK';
  ui.cancel.textContent = 'Cancel';
  ui.dialog.dataset.operation = operation;
  updateCounter();
  ui.dialog.showModal();
  ui.reason.focus();
}

function wireOperationDialog() {
  Object.assign(ui, {
    dialog: byId('op-dialog'),
    form: byId('op-form'),
    title: byId('op-title'),
    summary: byId('op-summary'),
    targets: byId('op-targets'),
    impact: byId('op-impact'),
    fields: byId('op-fields'),
    reason: byId('op-reason'),
    reasonError: byId('op-reason-error'),
    counter: byId('op-reason-count'),
    agreementField: byId('op-agreement-field'),
    agreement: byId('op-agreement'),
    agreementError: byId('op-agreement-error'),
    agreementLink: byId('op-agreement-link'),
    codeField: byId('op-code-field'),
    code: byId('op-code'),
    codeError: byId('op-code-error'),
    sendCode: byId('op-send-code'),
    hint: byId('op-code-hint'),
    demo: byId('op-code-demo'),
    error: byId('op-error'),
    results: byId('op-results'),
    resultsSummary: byId('op-results-summary'),
    resultsList: byId('op-results-list'),
    ok: byId('op-ok'),
    cancel: byId('op-cancel'),
  });
  ui.form.addEventListener('submit', submit);
  ui.reason.addEventListener('input', () => {
    updateCounter();
    if (ui.reason.value.trim()) fieldError(ui.reason, ui.reasonError, '');
  });
  ui.agreement.addEventListener('change', () => {
    if (ui.agreement.checked) fieldError(ui.agreement, ui.agreementError, '');
  });
  ui.code.addEventListener('input', () => fieldError(ui.code, ui.codeError, ''));
  ui.agreementLink.addEventListener('click', () => showAgreement(ui.agreementLink));
  ui.sendCode.addEventListener('click', sendCode);
  ui.cancel.addEventListener('click', () => ui.dialog.close());
  byId('op-x').addEventListener('click', () => ui.dialog.close());
  ui.dialog.addEventListener('close', () => {
    const state = current;
    current = null;
    stopCooldown();
    ui.reason.value = '';
    ui.code.value = '';
    if (state) restoreFocus(state.opener, state.fallbackFocus);
  });
}

export function initDialogs() {
  wireOperationDialog();
  wireAgreementDialog();
  wireConfirmDialog();
}
