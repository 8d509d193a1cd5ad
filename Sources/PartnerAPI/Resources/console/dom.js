// dom.js — building elements safely. Every string from the server goes in as text
// (textContent / text nodes); nothing here parses HTML.

/**
 * el('button', {className: 'btn', text: 'OK', attrs: {'aria-label': '…'}, dataset: {id: '…'},
 *               on: {click: handler}, hidden: false, disabled: true}, ...children)
 * Children are nodes or strings (strings become text nodes); null/false are skipped.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { className, text, attrs, dataset, on, ...rest } = props;
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value !== undefined && value !== null && value !== false) node.setAttribute(name, String(value));
    }
  }
  if (dataset) Object.assign(node.dataset, dataset);
  if (on) {
    for (const [type, handler] of Object.entries(on)) node.addEventListener(type, handler);
  }
  for (const [name, value] of Object.entries(rest)) {
    if (value !== undefined) node[name] = value;
  }
  append(node, ...children);
  return node;
}

export function append(parent, ...children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

export const byId = (id) => document.getElementById(id);

/** Shows or hides a message element; empty text hides it. */
export function setMessage(node, message) {
  node.textContent = message || '';
  node.hidden = !message;
}

/** A table row with one cell spanning the table: loading, empty or error states. */
export function placeholderRow(table, text, className = 'placeholder') {
  const columns = table.tHead ? Array.from(table.tHead.rows[0].cells).filter((cell) => !cell.hidden).length : 1;
  return el('tr', { className }, el('td', { text, attrs: { colspan: columns } }));
}

// --- the page's status line ("The operation is successful.") -----------------------------

let noticeTimer = null;

export function notify(message, kind = 'success', detail = '') {
  const box = byId('notice');
  const text = byId('notice-text');
  clear(text);
  append(text, el('strong', { text: message }), detail ? ` ${detail}` : null);
  box.className = `notice ${kind}`;
  box.hidden = false;
  clearTimeout(noticeTimer);
  if (kind === 'success') noticeTimer = setTimeout(hideNotice, 12000);
}

export function hideNotice() {
  clearTimeout(noticeTimer);
  const box = byId('notice');
  if (box) box.hidden = true;
}
