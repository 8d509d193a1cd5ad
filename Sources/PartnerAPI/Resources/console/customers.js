// customers.js — the Customer Management table: status filter, paging, resource counts,
// budget use, the Operation column, and selecting up to 10 customers for a batch operation.
import { api, seg } from './api.js';
import { el, clear, byId, placeholderRow, setMessage } from './dom.js';
import {
  OPERATIONS, OPERATION_ORDER, RESTRICTION_TYPES, RESOURCE_STATES, BUDGET_POLICIES, statusBadge, levelBadge, timeEl, plural,
  budgetUse, idKey,
} from './format.js';
import { openOperationDialog, openBudgetDialog } from './dialog.js';

const BATCH_MAX = 10;

let ctx = null;
const state = {
  status: '',
  limit: 20,
  cursors: [null], // the cursor of each page visited; the last one is the current page
  next: null,
  rows: new Map(), // id → customer on the current page
  selected: new Map(), // id → customer
  seq: 0,
};

/** The operations a customer offers, in the console's order. */
export function operationsOf(customer) {
  const offered = new Set(customer.available_operations || []);
  return OPERATION_ORDER.filter((op) => offered.has(op));
}

/** Why a customer has no operation, for the Operation column. */
function noOperationText(customer) {
  if (ctx.role === 'distributor') {
    const partner = ctx.partners.get(idKey(customer.partner_id));
    if (partner && partner.freeze_permission && partner.freeze_permission.granted) return 'Managed by partner';
  }
  return 'No permission';
}

/**
 * The Operation buttons for one customer (used by the table and the detail page).
 * onChanged(customerId) runs after the server applied an operation.
 */
export function operationButtons(customer, { onChanged, fallbackFocus } = {}) {
  const ops = operationsOf(customer);
  if (!ops.length) {
    return [el('span', {
      className: 'muted no-op',
      text: noOperationText(customer),
      attrs: { title: 'You cannot change this customer\'s restriction now.' },
    })];
  }
  return ops.map((op) => el('button', {
    type: 'button',
    className: 'link op-link',
    text: OPERATIONS[op].label,
    dataset: { op },
    on: {
      click: (event) => openOperationDialog({
        operation: op,
        customers: [customer],
        opener: event.currentTarget,
        fallbackFocus,
        onDone: () => onChanged?.(customer.id),
      }),
    },
  }));
}

/** "Lifts automatically on …" for a restriction with a scheduled lift, else null. */
export function scheduledLift(restriction, className = 'lift-at') {
  if (!restriction || !restriction.lift_at) return null;
  return el('div', { className }, 'Lifts automatically on ', timeEl(restriction.lift_at));
}

/** "By budget" for a restriction the customer's budget applied (origin budget, actor system). */
export function restrictionOrigin(restriction) {
  if (!restriction || restriction.origin !== 'budget') return null;
  return el('span', {
    className: 'badge origin-budget',
    text: 'By budget',
    attrs: { title: 'Applied automatically when the budget ran out; raising or removing the budget lifts it.' },
  });
}

function restrictionCell(customer) {
  const restriction = customer.active_restriction;
  if (!restriction) return el('span', { className: 'muted', text: '—' });
  return el('div', { className: 'restriction', dataset: { origin: restriction.origin || 'manual' } },
    el('div', { className: 'restriction-type' },
      RESTRICTION_TYPES[restriction.type] || restriction.type, restrictionOrigin(restriction)),
    el('div', { className: 'restriction-reason', attrs: { title: restriction.reason } },
      el('span', { className: 'muted', text: 'Reason: ' }), restriction.reason),
    el('div', { className: 'sub' }, 'Since ', timeEl(restriction.applied_at)),
    scheduledLift(restriction, 'sub lift-at'));
}

export function countsBlock(counts) {
  if (!counts) return el('span', { className: 'muted', text: '—' });
  const lines = [['pay_per_use', 'Pay-per-use'], ['prepaid', 'Prepaid']].map(([key, label]) => {
    const byState = counts[key] || {};
    const parts = RESOURCE_STATES
      .filter((name) => byState[name])
      .map((name) => el('span', { className: `count ${name}`, text: `${byState[name]} ${name}` }));
    return el('div', { className: 'counts-line', dataset: { billing: key } },
      el('span', { className: 'counts-label', text: label }),
      parts.length ? parts : el('span', { className: 'muted', text: 'none' }));
  });
  return el('div', { className: 'counts' }, lines, el('div', { className: 'sub', text: `${plural(counts.total ?? 0, 'resource')} in total` }));
}

/** The Budget column: use as a bar, the policy, and Set Budget for whoever holds the authority. */
function budgetCell(customer) {
  const budget = customer.budget;
  const policy = budget ? (BUDGET_POLICIES[budget.on_exhaustion] || {}).label || budget.on_exhaustion : '';
  const cell = budget
    ? [budgetUse(budget), el('div', { className: 'sub budget-policy', text: policy })]
    : [el('span', { className: 'muted no-budget', text: 'No budget' })];
  if (operationsOf(customer).length) {
    cell.push(el('button', {
      type: 'button',
      className: 'link budget-set',
      text: 'Set Budget',
      attrs: { 'aria-label': `Set Budget for ${customer.name}` },
      on: {
        click: (event) => openBudgetDialog({
          customer,
          opener: event.currentTarget,
          fallbackFocus: () => focusTarget(customer.id, '.budget-set'),
          onDone: () => refreshRow(customer.id, '.budget-set'),
        }),
      },
    }));
  }
  return cell;
}

function customerRow(customer) {
  const id = idKey(customer.id);
  const ops = operationsOf(customer);
  const checkbox = el('input', {
    type: 'checkbox',
    className: 'row-check',
    attrs: { 'aria-label': `Select ${customer.name}` },
    dataset: { customerId: id },
  });
  checkbox.checked = state.selected.has(id);
  checkbox.disabled = !ops.length;
  checkbox.addEventListener('change', () => {
    if (checkbox.checked) {
      if (state.selected.size >= BATCH_MAX) {
        checkbox.checked = false;
        return;
      }
      state.selected.set(id, customer);
    } else {
      state.selected.delete(id);
    }
    updateBatchBar();
  });

  const partner = ctx.partners.get(idKey(customer.partner_id));
  const partnerCell = el('td', { className: 'col-partner', hidden: ctx.role !== 'distributor' },
    partner ? partner.name : el('span', { className: 'mono sub', text: customer.partner_id }));

  return el('tr', { dataset: { customerId: id, status: customer.status } },
    el('td', { className: 'col-check' }, checkbox),
    el('td', { className: 'col-customer' },
      el('a', { className: 'customer-link', href: `#customer/${encodeURIComponent(id)}`, text: customer.name }),
      el('div', { className: 'sub mono', text: id })),
    partnerCell,
    el('td', { className: 'col-level' }, levelBadge(customer.level)),
    el('td', { className: 'col-status' }, statusBadge(customer.status)),
    el('td', { className: 'col-restriction' }, restrictionCell(customer)),
    el('td', { className: 'col-resources' }, countsBlock(customer.resource_counts)),
    el('td', { className: 'col-budget' }, budgetCell(customer)),
    el('td', { className: 'col-ops' }, el('div', { className: 'ops' },
      operationButtons(customer, { onChanged: refreshRow, fallbackFocus: () => focusTarget(id) }))));
}

/** Where focus goes in a customer's row when the element that had it was replaced. */
function focusTarget(id, preferred = '.op-link') {
  const row = byId('customers-body').querySelector(`tr[data-customer-id="${CSS.escape(idKey(id))}"]`);
  if (!row) return byId('customers-title');
  return row.querySelector(preferred) || row.querySelector('.op-link') || row.querySelector('.customer-link');
}

function updateBatchBar() {
  const selected = Array.from(state.selected.values());
  const count = selected.length;
  byId('selection-count').textContent = count
    ? `${plural(count, 'customer')} selected (up to ${BATCH_MAX})`
    : 'No customers selected';
  for (const button of document.querySelectorAll('[data-batch-op]')) {
    const op = button.dataset.batchOp;
    button.disabled = !count || !selected.every((customer) => operationsOf(customer).includes(op));
  }
  byId('selection-clear').disabled = !count;
  for (const box of byId('customers-body').querySelectorAll('input.row-check')) {
    const customer = state.rows.get(box.dataset.customerId);
    const selectable = customer && operationsOf(customer).length > 0;
    box.disabled = !selectable || (!box.checked && count >= BATCH_MAX);
  }
}

function showBanner(items) {
  const banner = byId('customers-banner');
  const stuck = ctx.role === 'partner' && items.length > 0 && items.every((customer) => operationsOf(customer).length === 0);
  setMessage(banner, stuck
    ? 'You cannot restrict or unrestrict these customers: your distributor has not granted you the permission to restrict purchases and freeze resources (or your account is suspended).'
    : '');
}

function render(items) {
  const body = byId('customers-body');
  state.rows = new Map(items.map((customer) => [idKey(customer.id), customer]));
  // Keep only selected customers that are still on the page, with their fresh data.
  for (const id of Array.from(state.selected.keys())) {
    const fresh = state.rows.get(id);
    if (fresh && operationsOf(fresh).length) state.selected.set(id, fresh);
    else state.selected.delete(id);
  }
  clear(body);
  if (!items.length) {
    body.append(placeholderRow(byId('customers-table'), state.status ? 'No customers in this status.' : 'No customers yet.', 'placeholder empty'));
  } else {
    for (const customer of items) body.append(customerRow(customer));
  }
  showBanner(items);
  updateBatchBar();
  byId('page-info').textContent = `Page ${state.cursors.length}`;
  byId('page-prev').disabled = state.cursors.length <= 1;
  byId('page-next').disabled = !state.next;
}

async function withCounts(customer) {
  try {
    return await api.get(`/v1/customers/${seg(customer.id)}`);
  } catch (error) {
    if (error.status === 401) throw error;
    return customer; // the row still shows, without counts
  }
}

export async function loadCustomers() {
  const seq = ++state.seq;
  const table = byId('customers-table');
  const body = byId('customers-body');
  table.setAttribute('aria-busy', 'true');
  if (!body.rows.length || body.querySelector('tr.placeholder')) {
    clear(body).append(placeholderRow(table, 'Loading customers…'));
  }
  try {
    const page = await api.get('/v1/customers', {
      status: state.status, limit: state.limit, cursor: state.cursors[state.cursors.length - 1],
    });
    const items = await Promise.all((page.items || []).map(withCounts));
    if (seq !== state.seq) return;
    state.next = page.next_cursor || null;
    render(items);
  } catch (error) {
    if (seq !== state.seq) return;
    clear(body).append(placeholderRow(table, error.message, 'placeholder error'));
    byId('page-next').disabled = true;
  } finally {
    if (seq === state.seq) table.removeAttribute('aria-busy');
  }
}

/** Re-reads one customer after an operation and redraws its row in place. */
async function refreshRow(customerId, focusSelector = '.op-link') {
  const id = idKey(customerId);
  const body = byId('customers-body');
  const old = body.querySelector(`tr[data-customer-id="${CSS.escape(id)}"]`);
  let customer;
  try {
    customer = await api.get(`/v1/customers/${seg(id)}`);
  } catch {
    await loadCustomers();
    return;
  }
  if (!old || !old.isConnected) return;
  const hadFocus = old.contains(document.activeElement) || document.activeElement === document.body;
  state.rows.set(id, customer);
  if (state.selected.has(id)) {
    if (operationsOf(customer).length) state.selected.set(id, customer);
    else state.selected.delete(id);
  }
  const row = customerRow(customer);
  row.classList.add('just-updated');
  old.replaceWith(row);
  updateBatchBar();
  showBanner(Array.from(state.rows.values()));
  if (hadFocus && !document.querySelector('dialog[open]')) focusTarget(id, focusSelector)?.focus();
}

function restart() {
  state.cursors = [null];
  state.next = null;
  state.selected.clear();
  loadCustomers();
}

function openBatch(event) {
  const operation = event.currentTarget.dataset.batchOp;
  const customers = Array.from(state.selected.values());
  if (!customers.length) return;
  openOperationDialog({
    operation,
    customers,
    batch: true,
    opener: event.currentTarget,
    fallbackFocus: () => byId('customers-title'),
    onDone: () => {
      state.selected.clear();
      loadCustomers();
    },
  });
}

export function initCustomers(context) {
  ctx = context;
  byId('status-filter').addEventListener('change', (event) => {
    state.status = event.currentTarget.value;
    restart();
  });
  byId('page-size').addEventListener('change', (event) => {
    state.limit = Number(event.currentTarget.value) || 20;
    restart();
  });
  byId('customers-refresh').addEventListener('click', () => loadCustomers());
  byId('page-next').addEventListener('click', () => {
    if (!state.next) return;
    state.cursors.push(state.next);
    state.selected.clear();
    loadCustomers();
  });
  byId('page-prev').addEventListener('click', () => {
    if (state.cursors.length <= 1) return;
    state.cursors.pop();
    state.selected.clear();
    loadCustomers();
  });
  byId('selection-clear').addEventListener('click', () => {
    state.selected.clear();
    for (const box of byId('customers-body').querySelectorAll('input.row-check')) box.checked = false;
    updateBatchBar();
  });
  for (const button of document.querySelectorAll('[data-batch-op]')) button.addEventListener('click', openBatch);
}

/** Shows the view (the Partner column for distributors) and loads the current page. */
export function showCustomers() {
  const distributor = ctx.role === 'distributor';
  for (const cell of document.querySelectorAll('#customers-table th.col-partner')) cell.hidden = !distributor;
  loadCustomers();
}

export function resetCustomers() {
  state.seq += 1;
  state.status = '';
  state.limit = 20;
  state.cursors = [null];
  state.next = null;
  state.rows.clear();
  state.selected.clear();
  byId('status-filter').value = '';
  byId('page-size').value = '20';
  clear(byId('customers-body'));
  setMessage(byId('customers-banner'), '');
  updateBatchBar();
}

