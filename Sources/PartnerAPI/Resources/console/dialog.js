// dialog.js — the modal dialogs: the restrict/unrestrict operation (one customer or a batch),
// the agreement text, and a plain confirmation. Native <dialog> with showModal(): the browser
// traps focus and Esc cancels; we focus the first field on open and give focus back on close.
// A freeze may carry a scheduled lift (`lift_at`); for one customer the dialog first asks the
// server for the freeze's impact (a dry run) and shows it before OK.
import { api, seg } from './api.js';
import { el, append, clear, byId, setMessage, notify } from './dom.js';
import {
  OPERATIONS, RESTRICTION_TYPES, formatDate, formatBytes, plural, relative, timeEl,
  parseLocalDateTime, localDateTimeValue, isoUTC,
} from './format.js';

const REASON_MAX = 256;
const RESEND_SECONDS = 30;
const LIFT_MAX_DAYS = 365; // the server refuses a scheduled lift further ahead
const PREVIEW_DELAY_MS = 300; // typing a date fires many input events: ask once it settles

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
let previewTimer = null;
let previewSeq = 0; // answers to an older preview request are dropped

function fieldError(input, errorNode, message) {
  setMessage(errorNode, message);
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function clearErrors() {
  fieldError(ui.reason, ui.reasonError, '');
  fieldError(ui.agreement, ui.agreementError, '');
  fieldError(ui.code, ui.codeError, '');
  fieldError(ui.liftAt, ui.liftError, '');
  setMessage(ui.error, '');
}

// --- the scheduled lift -------------------------------------------------------------------

/** The chosen lift time: {date, iso} (null when the field is empty), or {error}. */
function liftChoice() {
  const raw = ui.liftAt.value;
  if (!raw) return { date: null, iso: null };
  const date = parseLocalDateTime(raw);
  if (!date) return { error: 'Enter a date and time, or leave the field empty.' };
  return { date, iso: isoUTC(date) };
}

/** What is wrong with a chosen lift time, checked before OK ('' when nothing). */
function liftProblem(choice) {
  if (choice.error) return choice.error;
  if (!choice.date) return '';
  const now = Date.now();
  if (choice.date.getTime() <= now) return 'Choose a time in the future.';
  if (choice.date.getTime() > now + LIFT_MAX_DAYS * 86400 * 1000) return `Choose a time at most ${LIFT_MAX_DAYS} days ahead.`;
  return '';
}

function prepareLiftField(show) {
  ui.liftField.hidden = !show;
  if (!show) return;
  const now = new Date();
  ui.liftAt.min = localDateTimeValue(new Date(now.getTime() + 60 * 1000));
  ui.liftAt.max = localDateTimeValue(new Date(now.getTime() + LIFT_MAX_DAYS * 86400 * 1000));
  let zone = '';
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch {
    zone = '';
  }
  ui.liftHint.textContent = 'Leave it empty to lift the restriction by hand. Otherwise it is lifted automatically at this time'
    + ` (${zone ? `your time zone, ${zone}` : 'your time zone'}; at most ${LIFT_MAX_DAYS} days ahead), unless it is lifted earlier.`;
}

// --- the impact preview (a dry run of the freeze) -----------------------------------------

/** Only a single customer's freeze is previewed: the batch endpoint takes no dry run. */
function previewWanted(state) {
  return Boolean(state) && !state.batch && state.customers.length === 1 && !state.finished
    && OPERATIONS[state.operation].action === 'freeze';
}

function setPreviewState(kind, message = '') {
  ui.preview.dataset.state = kind;
  ui.previewStatus.textContent = message;
  ui.previewStatus.className = `preview-status ${kind}`;
  ui.previewStatus.hidden = !message;
  ui.previewRetry.hidden = kind !== 'error';
  ui.previewBody.classList.toggle('stale', kind === 'loading');
}

function schedulePreview(delay = PREVIEW_DELAY_MS) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(() => {
    previewTimer = null;
    loadPreview();
  }, delay);
}

function previewFact(list, label, id, value, note) {
  list.append(el('dt', { text: label }),
    el('dd', { id }, el('span', { className: 'preview-value' }, value), note ? el('span', { className: 'sub', text: ` ${note}` }) : null));
}

function renderPreview(preview) {
  const body = clear(ui.previewBody);
  const facts = el('dl', { className: 'preview-facts' });
  const frozen = Number(preview.frozen_resources ?? 0);
  previewFact(facts, 'Pay-per-use resources to freeze', 'op-preview-frozen', String(frozen),
    frozen ? 'become unusable at once' : null);
  previewFact(facts, 'Data at risk', 'op-preview-data', formatBytes(preview.data_bytes_at_risk ?? 0),
    preview.data_bytes_at_risk && preview.retention_until ? 'deleted when the retention ends, unless the restriction is lifted first' : null);
  if (preview.retention_until) {
    previewFact(facts, 'Retention ends', 'op-preview-retention', timeEl(preview.retention_until), `(${relative(preview.retention_until)})`);
  }
  if (preview.lift_at) {
    previewFact(facts, 'Scheduled lift', 'op-preview-lift', ['Lifts automatically on ', timeEl(preview.lift_at)]);
  }
  body.append(facts);

  const items = Array.isArray(preview.prepaid_expiring) ? preview.prepaid_expiring : [];
  const total = Math.max(Number(preview.prepaid_expiring_total ?? items.length) || 0, items.length);
  const prepaid = el('div', { className: 'preview-prepaid', id: 'op-preview-prepaid', dataset: { total: String(total) } });
  if (!total) {
    prepaid.append(el('p', { className: 'muted', text: 'No prepaid resource runs out during the restriction.' }));
  } else {
    prepaid.append(el('p', {
      className: 'preview-prepaid-title',
      text: `${plural(total, 'prepaid resource')} ${total === 1 ? 'runs' : 'run'} out during the restriction; `
        + `the customer cannot renew ${total === 1 ? 'it' : 'them'} while restricted:`,
    }));
    const list = el('ul', { className: 'preview-list', id: 'op-preview-prepaid-list', attrs: { 'aria-label': 'Prepaid resources that run out' } });
    for (const item of items) {
      const id = String(item.resource_id ?? '').toUpperCase();
      list.append(el('li', { dataset: { resourceId: id } },
        el('span', { className: 'mono', text: id.slice(0, 8), attrs: { title: id } }),
        ' expires ', timeEl(item.expires_at),
        item.grace_until ? el('span', { className: 'sub', text: ` · usable until ${formatDate(item.grace_until)}` }) : null));
    }
    prepaid.append(list);
    if (total > items.length) {
      prepaid.append(el('p', { className: 'sub preview-more', id: 'op-preview-more', text: `and ${total - items.length} more` }));
    }
  }
  body.append(prepaid);
}

/** Asks the server what the freeze would do (a dry run: nothing changes); `force` re-asks. */
async function loadPreview(force = false) {
  const state = current;
  if (!previewWanted(state)) return;
  const operation = OPERATIONS[state.operation];
  const lift = liftChoice();
  const key = `${operation.type}|${lift.iso || ''}`;
  if (!force && key === state.previewKey) return;
  state.previewKey = key;
  const seq = ++previewSeq;
  setPreviewState('loading', 'Checking the impact…');
  const body = { dry_run: true, type: operation.type };
  if (lift.iso) body.lift_at = lift.iso;
  try {
    const preview = await api.post(`/v1/customers/${seg(state.customers[0].id)}/freeze`, body);
    if (current !== state || seq !== previewSeq) return;
    renderPreview(preview || {});
    setPreviewState('ready');
  } catch (error) {
    if (current !== state || seq !== previewSeq) return;
    state.previewKey = null; // the same choice may be asked again
    clear(ui.previewBody);
    const message = String(error.message || '').trim();
    setPreviewState('error', `The impact could not be checked: ${message}${/[.!?]$/.test(message) ? '' : '.'} You can still continue.`);
  }
}

function startPreview(state) {
  clearTimeout(previewTimer);
  previewTimer = null;
  previewSeq += 1;
  clear(ui.previewBody);
  ui.preview.hidden = !previewWanted(state);
  if (ui.preview.hidden) {
    delete ui.preview.dataset.state;
    return;
  }
  loadPreview(true);
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
    const lift = result.lift_at ? ` Lifts automatically on ${formatDate(result.lift_at)}.` : '';
    if (operation.type !== 'purchase_and_resources') return `Purchases are restricted.${lift}`;
    const frozen = plural(result.frozen_resources ?? 0, 'pay-per-use resource');
    const until = result.retention_until ? ` They are retained until ${formatDate(result.retention_until)}.` : '';
    return `${frozen} frozen.${until}${lift}`;
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
  } else if (code === 'validation_failed' && /lift/i.test(error.message) && !ui.liftField.hidden) {
    ui.liftAt.setAttribute('aria-invalid', 'true');
    ui.liftAt.focus();
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
  ui.preview.hidden = true;
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
  const lift = operation.action === 'freeze' ? liftChoice() : { iso: null };
  const liftMessage = operation.action === 'freeze' ? liftProblem(lift) : '';
  if (liftMessage) {
    fieldError(ui.liftAt, ui.liftError, liftMessage);
    invalid = invalid || ui.liftAt;
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
  if (lift.iso) body.lift_at = lift.iso;
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
      if (restriction.lift_at) {
        append(ui.summary, el('br'), `It is scheduled to lift automatically on ${formatDate(restriction.lift_at)}; lifting it now cancels that.`);
      }
    }
    ui.targets.hidden = true;
  }
  ui.impact.textContent = spec.impact;
  ui.impact.hidden = false;
  ui.fields.hidden = false;
  ui.agreementField.hidden = !spec.agreement;
  prepareLiftField(spec.action === 'freeze');
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
  startPreview(current);
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
    liftField: byId('op-lift-field'),
    liftAt: byId('op-lift-at'),
    liftHint: byId('op-lift-hint'),
    liftError: byId('op-lift-error'),
    preview: byId('op-preview'),
    previewStatus: byId('op-preview-status'),
    previewBody: byId('op-preview-body'),
    previewRetry: byId('op-preview-retry'),
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
  const liftChanged = (delay) => {
    fieldError(ui.liftAt, ui.liftError, '');
    if (previewWanted(current)) schedulePreview(delay);
  };
  ui.liftAt.addEventListener('input', () => liftChanged(PREVIEW_DELAY_MS));
  ui.liftAt.addEventListener('change', () => liftChanged(0));
  ui.previewRetry.addEventListener('click', () => loadPreview(true));
  ui.agreementLink.addEventListener('click', () => showAgreement(ui.agreementLink));
  ui.sendCode.addEventListener('click', sendCode);
  ui.cancel.addEventListener('click', () => ui.dialog.close());
  byId('op-x').addEventListener('click', () => ui.dialog.close());
  ui.dialog.addEventListener('close', () => {
    const state = current;
    current = null;
    stopCooldown();
    clearTimeout(previewTimer);
    previewTimer = null;
    previewSeq += 1;
    ui.reason.value = '';
    ui.liftAt.value = '';
    ui.code.value = '';
    if (state) restoreFocus(state.opener, state.fallbackFocus);
  });
}

export function initDialogs() {
  wireOperationDialog();
  wireAgreementDialog();
  wireConfirmDialog();
}
