// detail.js — one customer: its level, restriction (with a scheduled lift), resource counts,
// resources (expired prepaid ones with their grace deadline, frozen ones with why and their
// retention deadline, released ones marked) and its audit trail.
import { api, seg } from './api.js';
import { el, clear, byId, placeholderRow, setMessage } from './dom.js';
import {
  RESTRICTION_TYPES, BILLING_MODES, RESOURCE_STATES, FROZEN_REASONS, statusBadge, resourceStateBadge, levelBadge,
  timeEl, relative, actorText, formatDuration,
} from './format.js';
import { operationButtons } from './customers.js';

const RESOURCE_PAGE = 50;
const AUDIT_PAGE = 20;

let ctx = null;
const state = { id: null, seq: 0, resourcesNext: null, auditNext: null };

function fact(label, ...value) {
  return [el('dt', { text: label }), el('dd', {}, ...value)];
}

function renderHead(customer) {
  const id = String(customer.id).toUpperCase();
  byId('customer-name').textContent = customer.name;
  byId('customer-crumb').textContent = customer.name;
  clear(byId('customer-status')).append(statusBadge(customer.status));
  clear(byId('customer-ops')).append(...operationButtons(customer, {
    onChanged: () => showCustomer(id, { keepFocus: true }),
    fallbackFocus: () => byId('customer-ops').querySelector('button') || byId('customer-name'),
  }));

  const facts = clear(byId('customer-facts'));
  const partner = ctx.partners.get(String(customer.partner_id).toUpperCase());
  facts.append(...fact('Customer ID', el('span', { className: 'mono', text: id })));
  facts.append(...fact('Partner', partner ? partner.name : el('span', { className: 'mono', text: customer.partner_id })));
  facts.append(...fact('Created', timeEl(customer.created_at)));
  facts.append(...fact('Level', el('span', { className: 'customer-level' }, levelBadge(customer.level)),
    el('span', { className: 'sub level-policy', dataset: { level: customer.level || '' } })));
  const restriction = customer.active_restriction;
  if (restriction) {
    facts.append(...fact('Restriction', RESTRICTION_TYPES[restriction.type] || restriction.type));
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
  const id = String(resource.id).toUpperCase();
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
  }
  try {
    const customer = await api.get(`/v1/customers/${seg(id)}`);
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
    byId('resources-more').hidden = true;
    byId('audit-more').hidden = true;
    return;
  }
  loadLevelPolicy(seq);
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
  byId('customer-name').textContent = '';
  byId('customer-crumb').textContent = '';
}

