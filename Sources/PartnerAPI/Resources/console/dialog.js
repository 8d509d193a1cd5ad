// dialog.js — the modal dialogs: the restrict/unrestrict operation (one customer or a batch),
// setting or removing a customer's budget, the agreement text, and a plain confirmation.
// Native <dialog> with showModal(): the browser traps focus and Esc cancels; we focus the first
// field on open and give focus back on close.
// A freeze may carry a scheduled lift (`lift_at`); for one customer the dialog first asks the
// server for the freeze's impact (a dry run) and shows it before OK.
import { api, seg } from './api.js';
import { el, append, clear, byId, setMessage, notify } from './dom.js';
import {
  OPERATIONS, RESTRICTION_TYPES, BUDGET_PERIODS, BUDGET_POLICIES, formatDate, formatBytes, formatPercent, plural, relative,
  timeEl, parseLocalDateTime, localDateTimeValue, isoUTC, idKey,
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

// --- verification codes (the operation and budget dialogs) ---------------------------------

function fieldError(input, errorNode, message) {
  setMessage(errorNode, message);
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

/**
 * Wires a dialog's Send code button: asks for a code of `purpose()`, shows the demo code when
 * the server delivers it in the answer (never typing it in), then a resend cooldown.
 * `owner()` is the dialog's current state: an answer arriving after it changed is dropped.
 */
function codeSender({ input, button, hint, demo, error, purpose, owner }) {
  let timer = null;
  const stop = () => {
    clearInterval(timer);
    timer = null;
    button.textContent = 'Send code';
    button.disabled = false;
  };
  const start = () => {
    let left = RESEND_SECONDS;
    button.disabled = true;
    const tick = () => {
      if (left <= 0) {
        clearInterval(timer);
        timer = null;
        button.disabled = false;
        button.textContent = 'Resend code';
        return;
      }
      button.textContent = `Resend code (${left} s)`;
      left -= 1;
    };
    tick();
    timer = setInterval(tick, 1000);
  };
  const send = async () => {
    const state = owner();
    if (!state) return;
    fieldError(input, error, '');
    button.disabled = true;
    hint.textContent = 'Sending the code…';
    demo.hidden = true;
    try {
      const issued = await api.post('/v1/verification-codes', { purpose: purpose() });
      if (owner() !== state) return;
      const until = issued && issued.expires_at ? ` It is valid until ${formatDate(issued.expires_at)}.` : '';
      hint.textContent = `Code sent.${until}`;
      if (issued && typeof issued.code === 'string' && issued.code) {
        // Demo delivery (the server runs with --verification-code-delivery response): show the
        // code so a demo can go on, but never type it in for the user.
        clear(demo);
        append(demo, 'Demo delivery: your code is ', el('code', { text: issued.code }));
        demo.hidden = false;
      }
      start();
      input.focus();
    } catch (failure) {
      if (owner() !== state) return;
      hint.textContent = '';
      fieldError(input, error, failure.message);
      button.disabled = false;
    }
  };
  button.addEventListener('click', send);
  input.addEventListener('input', () => fieldError(input, error, ''));
  return {
    /** Back to "Send code", no hint, no demo code (on open and close). */
    reset() {
      stop();
      hint.textContent = '';
      clear(demo);
      demo.hidden = true;
    },
  };
}

// --- the operation dialog -----------------------------------------------------------------

const ui = {};
let current = null;
let opening = false; // between the click and showModal (the settings are being read)
let opCode = null;
let previewTimer = null;
let previewSeq = 0; // answers to an older preview request are dropped

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
      const id = idKey(item.resource_id ?? '');
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
  const names = new Map(current.customers.map((customer) => [idKey(customer.id), customer.name]));
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
    const name = names.get(idKey(item.customer_id)) ?? String(item.customer_id);
    const ok = item.outcome === 'succeeded';
    const detail = ok ? successDetail(operation, item.result) : (item.error && item.error.message) || 'The operation failed.';
    ui.resultsList.append(el('li', { className: `result ${ok ? 'ok' : 'failed'}`, dataset: { customerId: idKey(item.customer_id), outcome: item.outcome } },
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
  opCode.reset();
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
  opCode = codeSender({
    input: ui.code,
    button: ui.sendCode,
    hint: ui.hint,
    demo: ui.demo,
    error: ui.codeError,
    purpose: () => OPERATIONS[current.operation].action,
    owner: () => current,
  });
  const liftChanged = (delay) => {
    fieldError(ui.liftAt, ui.liftError, '');
    if (previewWanted(current)) schedulePreview(delay);
  };
  ui.liftAt.addEventListener('input', () => liftChanged(PREVIEW_DELAY_MS));
  ui.liftAt.addEventListener('change', () => liftChanged(0));
  ui.previewRetry.addEventListener('click', () => loadPreview(true));
  ui.agreementLink.addEventListener('click', () => showAgreement(ui.agreementLink));
  ui.cancel.addEventListener('click', () => ui.dialog.close());
  byId('op-x').addEventListener('click', () => ui.dialog.close());
  ui.dialog.addEventListener('close', () => {
    const state = current;
    current = null;
    opCode.reset();
    clearTimeout(previewTimer);
    previewTimer = null;
    previewSeq += 1;
    ui.reason.value = '';
    ui.liftAt.value = '';
    ui.code.value = '';
    if (state) restoreFocus(state.opener, state.fallbackFocus);
  });
}

// --- the budget dialog: set (create or replace) or remove a customer's budget -------------

const AMOUNT_PATTERN = /^\d{1,14}(\.\d{1,2})?$/; // what the server accepts: 14 digits, 2 decimals
const bui = {};
let budgetState = null;
let budgetOpening = false;
let budgetCode = null;

const checkedValue = (name) => {
  const input = bui.form.querySelector(`input[name="${name}"]:checked`);
  return input ? input.value : '';
};

function checkValue(name, value) {
  for (const input of bui.form.querySelectorAll(`input[name="${name}"]`)) input.checked = input.value === value;
}

/** What is wrong with an amount, checked before Save ('' when nothing). */
function amountProblem(text) {
  if (!text) return 'Enter an amount.';
  if (!AMOUNT_PATTERN.test(text)) {
    return 'Enter the amount as a number such as 1000 or 250.50: digits only, at most 14 before the point and 2 after it.';
  }
  if (!/[1-9]/.test(text)) return 'Enter an amount greater than 0.';
  return '';
}

function clearBudgetErrors() {
  fieldError(bui.amount, bui.amountError, '');
  fieldError(bui.agreement, bui.agreementError, '');
  fieldError(bui.code, bui.codeError, '');
  setMessage(bui.error, '');
}

/** The agreement is asked for the freeze policy only; a period change restarts the period. */
function syncBudgetChoices() {
  const policy = BUDGET_POLICIES[checkedValue('budget-policy')];
  const needsAgreement = Boolean(policy && policy.agreement);
  bui.agreementField.hidden = !needsAgreement;
  if (!needsAgreement) {
    bui.agreement.checked = false;
    fieldError(bui.agreement, bui.agreementError, '');
  }
  const existing = budgetState && budgetState.existing;
  bui.periodNote.hidden = !existing || checkedValue('budget-period') === existing.period;
}

function showBudgetCodeField(show) {
  budgetState.codeRequired = show;
  bui.codeField.hidden = !show;
}

function budgetSummaryText(budget) {
  const period = (BUDGET_PERIODS[budget.period] || {}).label || budget.period;
  return `Current budget: ${budget.amount} (${period.toLowerCase()}), ${budget.spent} spent (${formatPercent(budget.percent_used)}).`;
}

/** The server's refusal, next to the field it is about (else under the form); focus goes there. */
function showBudgetServerError(error) {
  const code = error.code || '';
  const setting = budgetState.mode === 'set';
  if (code.startsWith('verification_code')) {
    if (bui.codeField.hidden) showBudgetCodeField(true);
    fieldError(bui.code, bui.codeError, error.message);
    bui.code.focus();
  } else if (code === 'agreement_required' && setting) {
    bui.agreementField.hidden = false;
    fieldError(bui.agreement, bui.agreementError, error.message);
    bui.agreement.focus();
  } else if (code === 'validation_failed' && setting && /amount/i.test(error.message)) {
    fieldError(bui.amount, bui.amountError, error.message);
    bui.amount.focus();
  } else {
    setMessage(bui.error, error.message);
    bui.ok.focus();
  }
}

async function submitBudget(event) {
  event.preventDefault();
  const state = budgetState;
  if (!state || state.busy) return;
  clearBudgetErrors();
  const code = bui.code.value.trim();
  let invalid = null;
  let body;
  if (state.mode === 'set') {
    const amount = bui.amount.value.trim();
    const problem = amountProblem(amount);
    if (problem) {
      fieldError(bui.amount, bui.amountError, problem);
      invalid = bui.amount;
    }
    // The agreement is the server's to ask for (agreement_required): its message shows here.
    body = { amount, period: checkedValue('budget-period'), on_exhaustion: checkedValue('budget-policy') };
    if (BUDGET_POLICIES[body.on_exhaustion]?.agreement && bui.agreement.checked) body.agreement_accepted = true;
  } else {
    body = {};
  }
  if (state.codeRequired && !code) {
    fieldError(bui.code, bui.codeError, 'Enter the verification code. Click Send code to get one.');
    invalid = invalid || bui.code;
  }
  if (invalid) {
    invalid.focus();
    return;
  }
  if (code) body.verification_code = code;

  const path = `/v1/customers/${seg(state.customer.id)}/budget`;
  const label = bui.ok.textContent;
  state.busy = true;
  bui.ok.disabled = true;
  bui.ok.setAttribute('aria-busy', 'true');
  bui.ok.textContent = 'Working…';
  try {
    if (state.mode === 'set') {
      const budget = await api.put(path, body);
      const period = (BUDGET_PERIODS[budget.period] || {}).label || budget.period;
      const policy = (BUDGET_POLICIES[budget.on_exhaustion] || {}).label || budget.on_exhaustion;
      notify('The budget is saved.', 'success',
        `${budget.amount} per ${period === 'Monthly' ? 'month' : 'one-time period'}; ${policy.toLowerCase()} when it is used up. `
        + `Spent so far: ${budget.spent} (${formatPercent(budget.percent_used)}).`);
      if (budgetState === state) bui.dialog.close();
      state.onDone?.({ budget });
    } else {
      const removed = await api.delete(path, { body });
      notify('The budget is removed.', 'success',
        removed && removed.restriction_lifted ? 'The restriction it had applied is lifted.' : '');
      if (budgetState === state) bui.dialog.close();
      state.onDone?.({ budget: null, removed });
    }
  } catch (error) {
    if (budgetState === state && error.status !== 401) showBudgetServerError(error);
  } finally {
    state.busy = false;
    if (budgetState === state) {
      bui.ok.disabled = false;
      bui.ok.removeAttribute('aria-busy');
      bui.ok.textContent = label;
    }
  }
}

/**
 * Opens the budget dialog for `customer` ({id, name}): `mode` 'set' prefills from the current
 * budget (read fresh), 'remove' asks before removing it. The caller's setting decides whether
 * a verification code (purpose `budget`) is needed. `onDone({budget, removed})` runs after the
 * server applied it; focus goes back to `opener` (or `fallbackFocus()`).
 */
export async function openBudgetDialog({ customer, mode = 'set', opener, fallbackFocus, onDone }) {
  if (!customer || bui.dialog.open || budgetOpening) return;
  budgetOpening = true;
  let codeRequired = false;
  let existing = null;
  let readError = '';
  try {
    const [settings, budget] = await Promise.allSettled([
      api.get('/v1/settings'),
      api.get(`/v1/customers/${seg(customer.id)}/budget`),
    ]);
    if ([settings, budget].some((result) => result.status === 'rejected' && result.reason.status === 401)) return;
    codeRequired = settings.status === 'fulfilled' && Boolean(settings.value && settings.value.verification_code_required);
    if (budget.status === 'fulfilled') existing = budget.value;
    else if (budget.reason.status !== 404) readError = `The current budget could not be read: ${budget.reason.message}`;
  } finally {
    budgetOpening = false;
  }

  budgetState = { customer, mode, existing, opener, fallbackFocus, onDone, busy: false, codeRequired };
  bui.form.reset();
  clearBudgetErrors();
  budgetCode.reset();
  const removing = mode === 'remove';
  bui.title.textContent = removing ? 'Remove Budget' : 'Set Budget';
  clear(bui.summary);
  append(bui.summary, 'Customer: ', el('strong', { className: 'target-name', text: customer.name }));
  if (existing) append(bui.summary, el('br'), el('span', { className: 'budget-current', text: budgetSummaryText(existing) }));
  else if (!readError) append(bui.summary, el('br'), el('span', { className: 'muted', text: 'No budget is set yet.' }));
  bui.removeText.textContent = 'The budget and its alerts stop. If the budget has restricted the customer, that restriction is lifted.';
  bui.removeText.hidden = !removing;
  bui.fields.hidden = removing;
  bui.amount.value = existing ? String(existing.amount) : '';
  checkValue('budget-period', existing ? existing.period : 'monthly');
  checkValue('budget-policy', existing ? existing.on_exhaustion : 'notify');
  syncBudgetChoices();
  showBudgetCodeField(codeRequired);
  setMessage(bui.error, readError);
  bui.ok.textContent = removing ? 'Remove' : 'Save';
  bui.ok.className = removing ? 'btn danger' : 'btn primary';
  bui.ok.disabled = removing && !existing && !readError;
  bui.dialog.dataset.mode = mode;
  bui.dialog.showModal();
  if (!removing) bui.amount.focus();
  else if (codeRequired) bui.code.focus();
  else bui.cancel.focus();
}

function wireBudgetDialog() {
  Object.assign(bui, {
    dialog: byId('budget-dialog'),
    form: byId('budget-form'),
    title: byId('budget-dialog-title'),
    summary: byId('budget-summary'),
    removeText: byId('budget-remove-text'),
    fields: byId('budget-fields'),
    amount: byId('budget-amount'),
    amountError: byId('budget-amount-error'),
    periodNote: byId('budget-period-note'),
    agreementField: byId('budget-agreement-field'),
    agreement: byId('budget-agreement'),
    agreementError: byId('budget-agreement-error'),
    agreementLink: byId('budget-agreement-link'),
    codeField: byId('budget-code-field'),
    code: byId('budget-code'),
    codeError: byId('budget-code-error'),
    error: byId('budget-form-error'),
    ok: byId('budget-ok'),
    cancel: byId('budget-cancel'),
  });
  // The choices' wording lives in format.js.
  for (const [value, spec] of Object.entries(BUDGET_PERIODS)) byId(`budget-period-${value}-hint`).textContent = spec.hint;
  for (const [value, spec] of Object.entries(BUDGET_POLICIES)) byId(`budget-policy-${value}-hint`).textContent = spec.hint;
  budgetCode = codeSender({
    input: bui.code,
    button: byId('budget-send-code'),
    hint: byId('budget-code-hint'),
    demo: byId('budget-code-demo'),
    error: bui.codeError,
    purpose: () => 'budget',
    owner: () => budgetState,
  });
  bui.form.addEventListener('submit', submitBudget);
  bui.amount.addEventListener('input', () => fieldError(bui.amount, bui.amountError, ''));
  bui.form.addEventListener('change', (event) => {
    if (event.target.name === 'budget-policy' || event.target.name === 'budget-period') syncBudgetChoices();
  });
  bui.agreement.addEventListener('change', () => {
    if (bui.agreement.checked) fieldError(bui.agreement, bui.agreementError, '');
  });
  bui.agreementLink.addEventListener('click', () => showAgreement(bui.agreementLink));
  bui.cancel.addEventListener('click', () => bui.dialog.close());
  byId('budget-x').addEventListener('click', () => bui.dialog.close());
  bui.dialog.addEventListener('close', () => {
    const state = budgetState;
    budgetState = null;
    budgetCode.reset();
    bui.amount.value = '';
    bui.code.value = '';
    bui.agreement.checked = false;
    if (state) restoreFocus(state.opener, state.fallbackFocus);
  });
}

export function initDialogs() {
  wireOperationDialog();
  wireBudgetDialog();
  wireAgreementDialog();
  wireConfirmDialog();
}
