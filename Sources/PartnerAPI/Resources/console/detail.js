// detail.js — one customer: its level, restriction (with a scheduled lift), resource counts,
// budget (use, alerts; set and removed by whoever holds the authority), resources (expired
// prepaid ones with their grace deadline, frozen ones with why and their retention deadline,
// released ones marked) and its audit trail.
import { api, seg } from './api.js';
import { el, clear, byId, placeholderRow, setMessage } from './dom.js';
import {
  RESTRICTION_TYPES, BILLING_MODES, RESOURCE_STATES, FROZEN_REASONS, BUDGET_PERIODS, BUDGET_POLICIES, BUDGET_THRESHOLDS,
  statusBadge, resourceStateBadge, levelBadge, timeEl, relative, actorText, formatDuration, formatPercent, budgetUse, budgetLevel,
  idKey,
} from './format.js';
import { operationButtons, operationsOf, restrictionOrigin } from './customers.js';
import { openBudgetDialog } from './dialog.js';

const RESOURCE_PAGE = 50;
const AUDIT_PAGE = 20;

let ctx = null;
const state = { id: null, seq: 0, resourcesNext: null, auditNext: null };

function fact(label, ...value) {
  return [el('dt', { text: label }), el('dd', {}, ...value)];
}

function renderHead(customer) {
  const id = idKey(customer.id);
  byId('customer-name').textContent = customer.name;
  byId('customer-crumb').textContent = customer.name;
  clear(byId('customer-status')).append(statusBadge(customer.status));
  clear(byId('customer-ops')).append(...operationButtons(customer, {
    onChanged: () => showCustomer(id, { keepFocus: true }),
    fallbackFocus: () => byId('customer-ops').querySelector('button') || byId('customer-name'),
  }));

  const facts = clear(byId('customer-facts'));
  const partner = ctx.partners.get(idKey(customer.partner_id));
  facts.append(...fact('Customer ID', el('span', { className: 'mono', text: id })));
  facts.append(...fact('Partner', partner ? partner.name : el('span', { className: 'mono', text: customer.partner_id })));
  facts.append(...fact('Created', timeEl(customer.created_at)));
  facts.append(...fact('Level', el('span', { className: 'customer-level' }, levelBadge(customer.level)),
    el('span', { className: 'sub level-policy', dataset: { level: customer.level || '' } })));
  const restriction = customer.active_restriction;
  if (restriction) {
    facts.append(...fact('Restriction', el('span', { className: 'restriction-type' },
      RESTRICTION_TYPES[restriction.type] || restriction.type, restrictionOrigin(restriction))));
    facts.append(...fact('Reason', el('span', { className: 'restriction-reason-full', text: restriction.reason })));
    facts.append(...fact('Since', timeEl(restriction.applied_at)));
    facts.append(...fact('Applied by', actorText(restriction.applied_by)));
    if (restriction.agreement_version) facts.append(...fact('Agreement version', restriction.agreement_version));
    if (restriction.lift_at) {
      facts.append(...fact('Scheduled lift', el('span', { className: 'lift-at' },
        'Lifts automatically on ', timeEl(restriction.lift_at),
        el('span', { className: 'sub', text: ` (${relative(restriction.lift_at)})` }))));
    }
  } else {
    facts.append(...fact('Restriction', el('span', { className: 'muted', text: 'None' })));
  }

  const cards = clear(byId('customer-counts'));
  const counts = customer.resource_counts;
  if (counts) {
    for (const [key, label] of [['pay_per_use', 'Pay-per-use'], ['prepaid', 'Prepaid (yearly/monthly)']]) {
      const byState = counts[key] || {};
      // Only prepaid resources expire: pay-per-use shows "Expired" only if the server counts some.
      const states = RESOURCE_STATES.filter((name) => name !== 'expired' || key === 'prepaid' || byState[name]);
      cards.append(el('div', { className: 'count-card', dataset: { billing: key } },
        el('h3', { text: label }),
        el('dl', {},
          ...states.flatMap((name) => [
            el('dt', { text: name[0].toUpperCase() + name.slice(1) }),
            el('dd', { className: `count-value ${name}`, text: String(byState[name] ?? 0) }),
          ]))));
    }
  }
}

/** The level's prepaid terms, next to the Level fact ("prepaid grace 15 days, …"). */
async function loadLevelPolicy(seq) {
  const note = byId('customer-facts').querySelector('.level-policy');
  if (!note || !note.dataset.level) return;
  try {
    const policies = await api.get('/v1/retention-policies');
    if (seq !== state.seq || !note.isConnected) return;
    const policy = (policies.items || []).find((item) => item.level === note.dataset.level);
    if (!policy) return;
    note.textContent = `Expired prepaid resources: ${formatDuration(policy.prepaid_grace_seconds)} grace, `
      + `then retained ${formatDuration(policy.prepaid_retention_seconds)}`;
  } catch {
    // The level alone is still shown; the policies are on the Settings page.
  }
}

// --- the budget ----------------------------------------------------------------------------

function budgetButtons(customer, budget) {
  if (!operationsOf(customer).length) return [];
  const open = (mode) => (event) => openBudgetDialog({
    customer,
    mode,
    opener: event.currentTarget,
    fallbackFocus: () => byId('budget-ops').querySelector('button') || byId('budget-title'),
    onDone: () => showCustomer(state.id, { keepFocus: true }),
  });
  const buttons = [el('button', {
    type: 'button', className: 'btn', text: 'Set Budget', dataset: { budgetAction: 'set' }, on: { click: open('set') },
  })];
  if (budget) {
    buttons.push(el('button', {
      type: 'button', className: 'btn', text: 'Remove Budget', dataset: { budgetAction: 'remove' }, on: { click: open('remove') },
    }));
  }
  return buttons;
}

function thresholdBadges(reached) {
  const list = Array.isArray(reached) ? reached.filter((value) => BUDGET_THRESHOLDS.includes(Number(value))) : [];
  if (!list.length) return el('span', { className: 'muted', text: 'None yet this period' });
  return list.map((percent) => el('span', {
    className: `badge threshold level-${budgetLevel(percent)}`, text: formatPercent(percent), dataset: { percent: String(percent) },
  }));
}

function alertRow(alert) {
  return el('tr', { dataset: { percent: String(alert.percent) } },
    el('td', {}, timeEl(alert.occurred_at)),
    el('td', {}, el('span', { className: `badge threshold level-${budgetLevel(alert.percent)}`, text: formatPercent(alert.percent) })),
    el('td', { className: 'alert-spent', text: `${alert.spent} of ${alert.amount}` }),
    el('td', {}, timeEl(alert.period_start)));
}

/** Draws the budget section: `budget` null when the customer has none. */
function renderBudget(customer, budget, keepFocus) {
  const ops = byId('budget-ops');
  const focused = document.activeElement;
  const hadFocus = ops.contains(focused) || focused === document.body;
  const wanted = focused && focused.dataset ? focused.dataset.budgetAction : null;
  clear(ops).append(...budgetButtons(customer, budget));
  const body = clear(byId('budget-body'));
  const panel = byId('budget-panel');
  panel.dataset.state = budget ? 'set' : 'none';
  const readOnly = !operationsOf(customer).length;
  if (!budget) {
    body.append(el('p', { className: 'muted no-budget', text: 'No budget set.' }));
    if (!readOnly) {
      body.append(el('p', {
        className: 'sub budget-intro',
        text: 'Set a budget to be alerted at 75%, 90% and 100% of the customer\'s spend, and, if you choose, to restrict the customer when it is used up.',
      }));
    }
  } else {
    const period = BUDGET_PERIODS[budget.period];
    const policy = BUDGET_POLICIES[budget.on_exhaustion];
    const facts = el('dl', { className: 'facts budget-facts' },
      ...fact('Amount', el('span', { className: 'budget-amount', text: budget.amount })),
      ...fact('Period', el('span', { className: 'budget-period', text: period ? period.label : budget.period })),
      ...fact('When used up', el('span', { className: 'budget-policy', text: policy ? policy.label : budget.on_exhaustion }),
        budget.agreement_version ? el('span', { className: 'sub', text: ` (agreement version ${budget.agreement_version})` }) : null),
      ...fact('Period start', timeEl(budget.period_start)),
      ...fact('Spent', el('span', { className: 'budget-spent-value', text: budget.spent })),
      ...fact('Remaining', el('span', { className: 'budget-remaining', text: budget.remaining })),
      ...fact('Used', budgetUse(budget, { className: 'wide' })),
      ...fact('Alerts reached', el('span', { className: 'thresholds' }, thresholdBadges(budget.thresholds_reached))),
      ...fact('Set by', actorText(budget.set_by), el('span', { className: 'sub' }, ', updated ', timeEl(budget.updated_at))));
    body.append(facts, el('p', {
      className: 'sub budget-note',
      text: 'The spend is settled every few seconds, so it can lag slightly behind the latest usage.',
    }));
  }
  if (readOnly) {
    body.append(el('p', {
      className: 'sub budget-readonly',
      text: 'Read-only: only whoever holds the permission to restrict this customer can set or remove its budget.',
    }));
  }

  const alerts = budget && Array.isArray(budget.alerts) ? budget.alerts : [];
  const table = byId('budget-alerts-table');
  const rows = clear(byId('budget-alerts-body'));
  byId('budget-alerts').hidden = !budget;
  if (budget && !alerts.length) rows.append(placeholderRow(table, 'No alerts yet.', 'placeholder empty'));
  for (const alert of alerts) rows.append(alertRow(alert));

  if (keepFocus && hadFocus && !document.querySelector('dialog[open]')) {
    const target = (wanted && ops.querySelector(`[data-budget-action="${CSS.escape(wanted)}"]`)) || ops.querySelector('button');
    target?.focus();
  }
}

async function loadBudget(seq, customer, keepFocus) {
  const panel = byId('budget-panel');
  panel.setAttribute('aria-busy', 'true');
  setMessage(byId('budget-error'), '');
  try {
    let budget = null;
    try {
      budget = await api.get(`/v1/customers/${seg(customer.id)}/budget`);
    } catch (error) {
      if (error.status !== 404) throw error; // 404: the customer has no budget, not an error
    }
    if (seq !== state.seq) return;
    renderBudget(customer, budget, keepFocus);
  } catch (error) {
    if (seq !== state.seq) return;
    clear(byId('budget-ops'));
    clear(byId('budget-body'));
    byId('budget-alerts').hidden = true;
    setMessage(byId('budget-error'), `The budget could not be read: ${error.message}`);
  } finally {
    if (seq === state.seq) panel.setAttribute('aria-busy', 'false');
  }
}

function clearBudget(message = '') {
  clear(byId('budget-ops'));
  const body = clear(byId('budget-body'));
  if (message) body.append(el('p', { className: 'muted', text: message }));
  clear(byId('budget-alerts-body'));
  byId('budget-alerts').hidden = true;
  setMessage(byId('budget-error'), '');
  delete byId('budget-panel').dataset.state;
}

function retentionCell(resource) {
  if (resource.state === 'released') {
    return el('span', { className: 'released-note' }, 'Released ', timeEl(resource.released_at), ' — data deleted, not recoverable');
  }
  if (resource.state === 'frozen' && resource.retention_until) {
    return el('span', { className: 'retention' }, 'Retained until ', timeEl(resource.retention_until),
      el('span', { className: 'sub', text: ` (${relative(resource.retention_until)})` }));
  }
  if (resource.state === 'expired' && resource.grace_until) {
    return el('span', { className: 'grace' }, 'Grace until ', timeEl(resource.grace_until),
      el('span', { className: 'sub', text: ` (${relative(resource.grace_until)}; renew to keep it)` }));
  }
  return el('span', { className: 'muted', text: '—' });
}

/** The state badge, and for a frozen (or released) resource why it was frozen. */
function stateCell(resource) {
  const reason = resource.frozen_reason;
  let note = null;
  if (resource.state === 'frozen' && reason) {
    note = el('div', { className: `frozen-reason ${reason === 'expired' ? 'by-expiry' : 'by-restriction'}`, text: FROZEN_REASONS[reason] || `Frozen: ${reason}` });
  } else if (resource.state === 'released' && reason) {
    note = el('div', { className: 'sub frozen-reason', text: reason === 'expired' ? 'Frozen after it expired' : 'Frozen by a restriction' });
  } else if (resource.state === 'expired') {
    note = el('div', { className: 'sub expired-note', text: 'Still usable; renewable' });
  }
  return [resourceStateBadge(resource.state), note];
}

function resourceRow(resource) {
  const id = idKey(resource.id);
  return el('tr', {
    className: `resource is-${resource.state}`,
    dataset: { resourceId: id, state: resource.state, frozenReason: resource.frozen_reason || '' },
  },
    el('td', {}, el('span', { className: 'mono', text: id.slice(0, 8), attrs: { title: id } })),
    el('td', { text: resource.type }),
    el('td', { text: BILLING_MODES[resource.billing_mode] || resource.billing_mode }),
    el('td', { className: 'resource-state' }, stateCell(resource)),
    el('td', {}, resource.expires_at ? timeEl(resource.expires_at) : el('span', { className: 'muted', text: '—' })),
    el('td', {}, resource.frozen_at ? timeEl(resource.frozen_at) : el('span', { className: 'muted', text: '—' })),
    el('td', {}, retentionCell(resource)));
}

function detailsText(details) {
  if (!details || typeof details !== 'object') return [];
  return Object.entries(details).map(([key, value]) => el('div', { className: 'detail-pair' },
    el('span', { className: 'muted', text: `${key}: ` }),
    typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)));
}

function auditRow(event) {
  return el('tr', { dataset: { action: event.action } },
    el('td', {}, timeEl(event.occurred_at)),
    el('td', { text: actorText(event.actor) }),
    el('td', {}, el('code', { text: event.action })),
    el('td', { text: event.reason || '' }),
    el('td', { className: 'audit-details' }, detailsText(event.details)));
}

async function loadResources(seq, append = false) {
  const table = byId('resources-table');
  const body = byId('resources-body');
  const more = byId('resources-more');
  if (!append) clear(body).append(placeholderRow(table, 'Loading resources…'));
  more.disabled = true;
  try {
    const page = await api.get(`/v1/customers/${seg(state.id)}/resources`, { limit: RESOURCE_PAGE, cursor: append ? state.resourcesNext : null });
    if (seq !== state.seq) return;
    if (!append) clear(body);
    const items = page.items || [];
    if (!append && !items.length) body.append(placeholderRow(table, 'This customer has no resources.', 'placeholder empty'));
    for (const resource of items) body.append(resourceRow(resource));
    state.resourcesNext = page.next_cursor || null;
    more.hidden = !state.resourcesNext;
  } catch (error) {
    if (seq !== state.seq) return;
    if (!append) clear(body);
    body.append(placeholderRow(table, error.message, 'placeholder error'));
  } finally {
    more.disabled = false;
  }
}

async function loadAudit(seq, append = false) {
  const table = byId('audit-table');
  const body = byId('audit-body');
  const more = byId('audit-more');
  if (!append) clear(body).append(placeholderRow(table, 'Loading the audit trail…'));
  more.disabled = true;
  try {
    const page = await api.get('/v1/audit-events', { customer_id: state.id, limit: AUDIT_PAGE, cursor: append ? state.auditNext : null });
    if (seq !== state.seq) return;
    if (!append) clear(body);
    const items = page.items || [];
    if (!append && !items.length) body.append(placeholderRow(table, 'No events yet.', 'placeholder empty'));
    for (const event of items) body.append(auditRow(event));
    state.auditNext = page.next_cursor || null;
    more.hidden = !state.auditNext;
  } catch (error) {
    if (seq !== state.seq) return;
    if (!append) clear(body);
    body.append(placeholderRow(table, error.message, 'placeholder error'));
  } finally {
    more.disabled = false;
  }
}

/** Shows customer `id`; keepFocus re-focuses the operation area after a change. */
export async function showCustomer(id, { keepFocus = false } = {}) {
  id = idKey(id); // a pasted URL may carry any case
  const seq = ++state.seq;
  const same = state.id === id;
  state.id = id;
  setMessage(byId('customer-error'), '');
  if (!same) {
    byId('customer-name').textContent = 'Loading…';
    byId('customer-crumb').textContent = '';
    clear(byId('customer-status'));
    clear(byId('customer-ops'));
    clear(byId('customer-facts'));
    clear(byId('customer-counts'));
    clearBudget('Loading the budget…');
  }
  let customer;
  try {
    customer = await api.get(`/v1/customers/${seg(id)}`);
    if (seq !== state.seq) return;
    const focusWasInOps = byId('customer-ops').contains(document.activeElement) || document.activeElement === document.body;
    renderHead(customer);
    if (keepFocus && focusWasInOps && !byId('op-dialog').open) {
      (byId('customer-ops').querySelector('button') || byId('customer-name')).focus();
    }
  } catch (error) {
    if (seq !== state.seq) return;
    byId('customer-name').textContent = 'Customer';
    setMessage(byId('customer-error'), error.message);
    clear(byId('resources-body'));
    clear(byId('audit-body'));
    clearBudget();
    byId('resources-more').hidden = true;
    byId('audit-more').hidden = true;
    return;
  }
  loadLevelPolicy(seq);
  loadBudget(seq, customer, keepFocus);
  loadResources(seq);
  loadAudit(seq);
}

export function initDetail(context) {
  ctx = context;
  byId('resources-more').addEventListener('click', () => loadResources(state.seq, true));
  byId('audit-more').addEventListener('click', () => loadAudit(state.seq, true));
}

export function resetDetail() {
  state.seq += 1;
  state.id = null;
  for (const id of ['customer-status', 'customer-ops', 'customer-facts', 'customer-counts', 'resources-body', 'audit-body']) clear(byId(id));
  clearBudget();
  byId('customer-name').textContent = '';
  byId('customer-crumb').textContent = '';
}

