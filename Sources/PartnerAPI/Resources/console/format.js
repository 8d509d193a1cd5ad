// format.js — the console's wording: labels for API enums, dates, status badges.
import { el } from './dom.js';

export const OPERATIONS = {
  restrict_purchase_and_freeze_resources: {
    label: 'Restrict Purchase and Freeze Resources',
    action: 'freeze',
    type: 'purchase_and_resources',
    agreement: true,
    impact: 'The customer will not be able to buy, renew or change resources. Prepaid (yearly/monthly) resources stay usable. '
      + 'Pay-per-use resources become unusable and enter a retention period; when it ends, their stored data is deleted and they are released.',
  },
  restrict_purchase: {
    label: 'Restrict Purchase',
    action: 'freeze',
    type: 'purchase',
    agreement: false,
    impact: 'The customer will not be able to buy, renew or change resources. All its resources stay usable.',
  },
  unrestrict_purchase_and_unfreeze_resources: {
    label: 'Unrestrict Purchase and Unfreeze Resources',
    action: 'unfreeze',
    type: 'purchase_and_resources',
    agreement: false,
    impact: 'The customer will be able to buy, renew and change resources again, and its frozen resources become usable. '
      + 'Resources already released at the end of their retention period cannot be recovered.',
  },
  unrestrict_purchase: {
    label: 'Unrestrict Purchase',
    action: 'unfreeze',
    type: 'purchase',
    agreement: false,
    impact: 'The customer will be able to buy, renew and change resources again.',
  },
};

export const OPERATION_ORDER = Object.keys(OPERATIONS);

const STATUS = {
  normal: { label: 'Normal', tone: 'ok' },
  purchase_restricted: { label: 'Purchase restricted', tone: 'warn' },
  frozen: { label: 'Frozen', tone: 'danger' },
};

const RESOURCE_STATE = {
  active: { label: 'Active', tone: 'ok' },
  frozen: { label: 'Frozen', tone: 'danger' },
  released: { label: 'Released', tone: 'muted' },
};

const TENANT_STATUS = {
  active: { label: 'Active', tone: 'ok' },
  suspended: { label: 'Suspended', tone: 'danger' },
};

export const RESTRICTION_TYPES = {
  purchase_and_resources: 'Purchase restricted, resources frozen',
  purchase: 'Purchase restricted',
};

export const BILLING_MODES = { prepaid: 'Prepaid (yearly/monthly)', pay_per_use: 'Pay-per-use' };

const ACTORS = { operator: 'Operator', distributor: 'Distributor', partner: 'Partner', customer: 'Customer', system: 'System' };

function badge(table, value) {
  const known = table[value];
  return el('span', {
    className: `badge ${known ? known.tone : 'muted'}`,
    text: known ? known.label : String(value ?? 'unknown'),
    dataset: { value: String(value ?? '') },
  });
}

export const statusBadge = (status) => badge(STATUS, status);
export const resourceStateBadge = (state) => badge(RESOURCE_STATE, state);
export const tenantStatusBadge = (status) => badge(TENANT_STATUS, status);
export const statusLabel = (status) => (STATUS[status] ? STATUS[status].label : String(status));

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDate(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : dateTime.format(date);
}

/** <time datetime="…" title="…">formatted</time>, or an em dash when absent. */
export function timeEl(iso) {
  if (!iso) return el('span', { className: 'muted', text: '—' });
  return el('time', { text: formatDate(iso), attrs: { datetime: iso, title: iso } });
}

/** "in 15 days" / "3 hours ago", for retention deadlines. */
export function relative(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const seconds = (date.getTime() - Date.now()) / 1000;
  const units = [['day', 86400], ['hour', 3600], ['minute', 60]];
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(Math.round(seconds), 'second');
}

export function actorText(actor) {
  if (!actor) return '';
  const kind = ACTORS[actor.kind] || String(actor.kind);
  return actor.id ? `${kind} ${shortId(actor.id)}` : kind;
}

export const shortId = (id) => String(id ?? '').slice(0, 8);

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}
