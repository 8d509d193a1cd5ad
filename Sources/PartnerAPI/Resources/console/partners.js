// partners.js — a distributor's resellers with the permission "restrict purchases and freeze
// resources": its state, Grant / Revoke, and each grant's history.
import { api, seg } from './api.js';
import { el, clear, byId, placeholderRow, notify } from './dom.js';
import { tenantStatusBadge, timeEl, actorText, idKey } from './format.js';
import { confirmAction } from './dialog.js';

let ctx = null;
const state = { cursors: [null], next: null, seq: 0 };

/** Reads every partner (for names in the customer table); used at sign-in. */
export async function loadAllPartners(token) {
  const partners = new Map();
  let cursor = null;
  for (let page = 0; page < 50; page += 1) {
    const list = await api.get('/v1/partners', { limit: 200, cursor }, token === undefined ? {} : { token });
    for (const partner of list.items || []) partners.set(idKey(partner.id), partner);
    cursor = list.next_cursor || null;
    if (!cursor) break;
  }
  return partners;
}

function permissionCell(partner) {
  const permission = partner.freeze_permission || { granted: false };
  if (permission.granted) {
    return el('div', { className: 'permission' },
      el('span', { className: 'badge ok', text: 'Granted', dataset: { value: 'granted' } }),
      permission.granted_at ? el('span', { className: 'sub' }, ' since ', timeEl(permission.granted_at)) : null);
  }
  return el('div', { className: 'permission' }, el('span', { className: 'badge muted', text: 'Not granted', dataset: { value: 'not_granted' } }));
}

/** Updates our copy of a partner from a FreezePermission answer. */
function applyPermission(partner, permission) {
  partner.freeze_permission = permission.granted
    ? { granted: true, granted_at: permission.current ? permission.current.granted_at : undefined }
    : { granted: false };
  ctx.partners.set(idKey(partner.id), partner);
}

function replaceRow(partner, focusSelector) {
  const body = byId('partners-body');
  const old = body.querySelector(`tr[data-partner-id="${CSS.escape(idKey(partner.id))}"]`);
  const history = old && old.nextElementSibling && old.nextElementSibling.classList.contains('history-row') ? old.nextElementSibling : null;
  const row = partnerRow(partner);
  row.classList.add('just-updated');
  if (old) old.replaceWith(row);
  if (history) history.remove();
  if (focusSelector) row.querySelector(focusSelector)?.focus();
}

async function grant(partner) {
  try {
    const permission = await api.put(`/v1/partners/${seg(partner.id)}/freeze-permission`);
    applyPermission(partner, permission);
    replaceRow(partner, '.revoke');
    notify(`The operation is successful.`, 'success', `${partner.name} may now restrict purchases and freeze resources for its customers.`);
  } catch (error) {
    if (error.status !== 401) notify(error.message, 'error');
  }
}

async function revoke(partner, opener) {
  const done = await confirmAction({
    title: 'Revoke the permission',
    text: `Revoke the permission to restrict purchases and freeze resources from ${partner.name}? `
      + 'Restrictions it has applied stay in place, and you take them over.',
    okLabel: 'Revoke',
    opener,
    fallbackFocus: () => byId('partners-body').querySelector(`tr[data-partner-id="${CSS.escape(idKey(partner.id))}"] .grant`),
    action: async () => {
      const permission = await api.delete(`/v1/partners/${seg(partner.id)}/freeze-permission`);
      applyPermission(partner, permission);
    },
  });
  if (done) {
    replaceRow(partner, '.grant');
    notify('The operation is successful.', 'success', `${partner.name} no longer holds the permission; you act on its customers.`);
  }
}

async function toggleHistory(partner, button) {
  const row = button.closest('tr');
  const existing = row.nextElementSibling && row.nextElementSibling.classList.contains('history-row') ? row.nextElementSibling : null;
  if (existing) {
    existing.remove();
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  const cell = el('td', { attrs: { colspan: 4 } }, el('span', { className: 'muted', text: 'Loading the history…' }));
  const historyRow = el('tr', { className: 'history-row' }, cell);
  row.after(historyRow);
  button.setAttribute('aria-expanded', 'true');
  try {
    const permission = await api.get(`/v1/partners/${seg(partner.id)}/freeze-permission`);
    clear(cell);
    const history = permission.history || [];
    if (!history.length) {
      cell.append(el('span', { className: 'muted', text: 'The permission has never been granted.' }));
      return;
    }
    cell.append(el('ul', { className: 'history' }, history.map((item) => el('li', {},
      'Granted ', timeEl(item.granted_at), ` by ${actorText(item.granted_by)}`,
      item.revoked_at ? [', revoked ', timeEl(item.revoked_at), ` by ${actorText(item.revoked_by)}`] : ' — active'))));
  } catch (error) {
    clear(cell).append(el('span', { className: 'form-error', text: error.message }));
  }
}

function partnerRow(partner) {
  const granted = Boolean(partner.freeze_permission && partner.freeze_permission.granted);
  const action = granted
    ? el('button', { type: 'button', className: 'link revoke', text: 'Revoke', on: { click: (event) => revoke(partner, event.currentTarget) } })
    : el('button', { type: 'button', className: 'link grant', text: 'Grant', on: { click: () => grant(partner) } });
  const historyButton = el('button', {
    type: 'button', className: 'link history-toggle', text: 'History', attrs: { 'aria-expanded': 'false' },
    on: { click: (event) => toggleHistory(partner, event.currentTarget) },
  });
  return el('tr', { dataset: { partnerId: idKey(partner.id), granted: String(granted) } },
    el('td', {}, el('div', { className: 'partner-name', text: partner.name }), el('div', { className: 'sub mono', text: idKey(partner.id) })),
    el('td', {}, tenantStatusBadge(partner.status)),
    el('td', {}, permissionCell(partner)),
    el('td', { className: 'col-ops' }, el('div', { className: 'ops' }, action, historyButton)));
}

async function loadPartners() {
  const seq = ++state.seq;
  const table = byId('partners-table');
  const body = byId('partners-body');
  clear(body).append(placeholderRow(table, 'Loading partners…'));
  try {
    const list = await api.get('/v1/partners', { limit: 50, cursor: state.cursors[state.cursors.length - 1] });
    if (seq !== state.seq) return;
    clear(body);
    const items = list.items || [];
    for (const partner of items) ctx.partners.set(idKey(partner.id), partner);
    if (!items.length) body.append(placeholderRow(table, 'No partners yet.', 'placeholder empty'));
    for (const partner of items) body.append(partnerRow(partner));
    state.next = list.next_cursor || null;
  } catch (error) {
    if (seq !== state.seq) return;
    clear(body).append(placeholderRow(table, error.message, 'placeholder error'));
    state.next = null;
  }
  byId('partners-page-info').textContent = `Page ${state.cursors.length}`;
  byId('partners-prev').disabled = state.cursors.length <= 1;
  byId('partners-next').disabled = !state.next;
}

export function initPartners(context) {
  ctx = context;
  byId('partners-refresh').addEventListener('click', loadPartners);
  byId('partners-next').addEventListener('click', () => {
    if (!state.next) return;
    state.cursors.push(state.next);
    loadPartners();
  });
  byId('partners-prev').addEventListener('click', () => {
    if (state.cursors.length <= 1) return;
    state.cursors.pop();
    loadPartners();
  });
}

export function showPartners() {
  loadPartners();
}

export function resetPartners() {
  state.seq += 1;
  state.cursors = [null];
  state.next = null;
  clear(byId('partners-body'));
}
