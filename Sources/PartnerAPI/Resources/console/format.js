// format.js — the console's wording: labels for API enums, dates, status badges.
import { el } from './dom.js';

/** The form ids are compared and shown in: the API writes them lowercase (RFC 9562) and
 * accepts any case, so ids typed or pasted elsewhere are folded the same way. */
export const idKey = (id) => String(id).toLowerCase();

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
  expired: { label: 'Expired', tone: 'warn' },
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

/** A resource's states in the console's order (counts, cards). */
export const RESOURCE_STATES = ['active', 'expired', 'frozen', 'released'];

/** Why a resource is frozen (`frozen_reason`): a restriction, or a prepaid term run out. */
export const FROZEN_REASONS = {
  restriction: 'Frozen: restriction',
  expired: 'Frozen: expired — renew to reactivate',
};

/** Customer levels (`v0`…`v5`); the level picks the retention policy. */
export const LEVELS = ['v0', 'v1', 'v2', 'v3', 'v4', 'v5'];

/** How long a budget's spend accumulates (`period`). */
export const BUDGET_PERIODS = {
  monthly: { label: 'Monthly', hint: 'Starts again on the 1st of each month (00:00 UTC).' },
  one_time: { label: 'One-time', hint: 'One period, from when the budget is set.' },
};

/** What happens when a period's spend reaches the budget (`on_exhaustion`). */
export const BUDGET_POLICIES = {
  notify: {
    label: 'Notify only',
    hint: 'Alerts at 75%, 90% and 100%; nothing is restricted.',
    agreement: false,
  },
  restrict_purchase: {
    label: 'Restrict purchase',
    hint: 'At 100% the customer can no longer buy, renew or change resources. All its resources stay usable.',
    agreement: false,
  },
  restrict_purchase_and_freeze_resources: {
    label: 'Restrict purchase and freeze resources',
    hint: 'At 100% purchases are restricted and pay-per-use resources are frozen; they enter a retention period and are released when it ends.',
    agreement: true,
  },
};

/** The alert thresholds, in percent of the budget. */
export const BUDGET_THRESHOLDS = [75, 90, 100];

/** A budget's level by percent used: normal below 75, warn from 75, high from 90, exhausted from 100. */
export function budgetLevel(percent) {
  const value = Number(percent);
  if (!Number.isFinite(value) || value < 75) return 'normal';
  if (value < 90) return 'warn';
  if (value < 100) return 'high';
  return 'exhausted';
}

const percentFormat = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 2 });

/** 75.5 → "75.5%" in the user's locale (the server rounds to two decimals). */
export function formatPercent(percent) {
  const value = Number(percent);
  return Number.isFinite(value) ? percentFormat.format(value / 100) : '—';
}

/**
 * A budget's use: "12 / 100.00" and the percentage, over a bar filled to the percentage
 * (capped at 100 %), coloured by level. `budget` has amount, spent (decimal strings, shown
 * as the server wrote them) and percent_used.
 */
export function budgetUse(budget, { className = '' } = {}) {
  const percent = Number(budget.percent_used);
  const level = budgetLevel(percent);
  const shown = formatPercent(percent);
  const fill = Number.isFinite(percent) ? Math.min(Math.max(percent, 0), 100) : 0;
  return el('div', {
    className: `budget-use level-${level}${className ? ` ${className}` : ''}`,
    dataset: { level, percent: String(budget.percent_used ?? '') },
  },
    el('div', { className: 'budget-figures' },
      el('span', { className: 'budget-spent', text: `${budget.spent} / ${budget.amount}` }),
      el('span', { className: 'budget-percent', text: shown })),
    el('progress', {
      className: `budget-bar level-${level}`,
      max: 100,
      value: fill,
      text: shown,
      attrs: { 'aria-label': `Budget used: ${shown} (${budget.spent} of ${budget.amount})` },
    }));
}

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
export const levelLabel = (level) => (level ? String(level).toUpperCase() : '—');
export function levelBadge(level) {
  if (!level) return el('span', { className: 'muted', text: '—' });
  return el('span', { className: 'badge level', text: levelLabel(level), dataset: { value: String(level) } });
}
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

/** 1500000000 → "1.5 GB" (decimal units, as storage is billed). */
export function formatBytes(bytes) {
  const value = Number(bytes);
  if (!Number.isFinite(value) || value < 0) return '—';
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let size = value;
  let unit = 0;
  while (size >= 1000 && unit < units.length - 1) {
    size /= 1000;
    unit += 1;
  }
  if (unit === 0) return value === 1 ? '1 byte' : `${value} bytes`;
  const digits = size < 10 ? 1 : 0;
  const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: digits }).format(size);
  return `${number} ${units[unit]}`;
}

/** 1296000 → "15 days", 5400 → "1 hour 30 minutes" (at most two units). */
export function formatDuration(seconds) {
  let left = Math.round(Number(seconds));
  if (!Number.isFinite(left) || left < 0) return '—';
  if (left === 0) return '0 seconds';
  const parts = [];
  for (const [unit, size] of [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]]) {
    const count = Math.floor(left / size);
    if (count) {
      parts.push(plural(count, unit));
      left -= count * size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** A datetime-local value ("2030-01-31T09:30", the user's time zone) → a Date, or null. */
export function parseLocalDateTime(value) {
  if (!value) return null;
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number);
  const date = new Date(y, mo - 1, d, h, mi, s || 0);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A Date → the value of a datetime-local input, in the user's time zone, to the minute. */
export function localDateTimeValue(date) {
  const two = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}T${two(date.getHours())}:${two(date.getMinutes())}`;
}

/** A Date → ISO 8601 in UTC without milliseconds ("2030-01-31T08:30:00Z"). */
export const isoUTC = (date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function actorText(actor) {
  if (!actor) return '';
  const kind = ACTORS[actor.kind] || String(actor.kind);
  return actor.id ? `${kind} ${shortId(actor.id)}` : kind;
}

export const shortId = (id) => String(id ?? '').slice(0, 8);

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}
