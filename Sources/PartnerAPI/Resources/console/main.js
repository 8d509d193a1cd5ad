// main.js — start-up: sign in and out, telling a partner from a distributor, and the
// hash routes (#customers, #customer/<id>, #partners, #settings).
import { api, session, onUnauthenticated } from './api.js';
import { byId, setMessage, hideNotice, notify } from './dom.js';
import { initDialogs } from './dialog.js';
import { initCustomers, showCustomers, resetCustomers } from './customers.js';
import { initDetail, showCustomer, resetDetail } from './detail.js';
import { initPartners, showPartners, resetPartners, loadAllPartners } from './partners.js';
import { initSettings, showSettings, resetSettings } from './settings.js';

// Shared with the views: who is signed in, and the distributor's partners by id.
const ctx = { role: null, partners: new Map() };

const VIEWS = ['customers', 'customer', 'partners', 'settings'];

/**
 * Checks a key and finds out whose it is: GET /v1/settings answers partners and
 * distributors; GET /v1/partners answers distributors only (a partner gets 403).
 */
async function identify(token) {
  try {
    await api.get('/v1/settings', undefined, { token });
  } catch (error) {
    if (error.status === 403) {
      throw new Error('This console is for partners and distributors. Sign in with a partner or distributor API key.');
    }
    throw error;
  }
  try {
    return { role: 'distributor', partners: await loadAllPartners(token) };
  } catch (error) {
    if (error.status === 403) return { role: 'partner', partners: new Map() };
    throw error;
  }
}

function showSignIn(message = '', kind = 'error') {
  byId('app').hidden = true;
  byId('signin').hidden = false;
  const box = byId('signin-error');
  box.className = kind === 'info' ? 'form-info' : 'form-error';
  setMessage(box, message);
  byId('signin-key').value = '';
  byId('signin-key').focus();
}

function enterApp(identity, token) {
  ctx.role = identity.role;
  ctx.partners = identity.partners;
  const distributor = ctx.role === 'distributor';
  byId('account-role').textContent = distributor ? 'Distributor' : 'Partner';
  byId('account-avatar').textContent = distributor ? 'D' : 'P';
  byId('account-key').textContent = `API key …${token.slice(-4)}`;
  document.querySelector('[data-nav="partners"]').hidden = !distributor;
  document.body.dataset.role = ctx.role;
  byId('signin').hidden = true;
  byId('app').hidden = false;
  route(false);
}

function signOut(message = 'You have signed out.', kind = 'info') {
  session.clear();
  ctx.role = null;
  ctx.partners = new Map();
  delete document.body.dataset.role;
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  hideNotice();
  resetCustomers();
  resetDetail();
  resetPartners();
  resetSettings();
  for (const view of VIEWS) byId(`view-${view}`).hidden = true;
  history.replaceState(null, '', window.location.pathname);
  showSignIn(message, kind);
}

function route(moveFocus = true) {
  if (!ctx.role) return;
  const hash = decodeURIComponent(window.location.hash.replace(/^#/, ''));
  let view = 'customers';
  let customerId = null;
  if (hash.startsWith('customer/')) {
    view = 'customer';
    customerId = hash.slice('customer/'.length);
  } else if (hash === 'partners' && ctx.role === 'distributor') {
    view = 'partners';
  } else if (hash === 'settings') {
    view = 'settings';
  }
  for (const name of VIEWS) byId(`view-${name}`).hidden = name !== view;
  const nav = view === 'customer' ? 'customers' : view;
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const titles = { customers: 'Customer Management', customer: 'Customer', partners: 'Partners', settings: 'Settings' };
  document.title = `${titles[view]} · Partner Center`;
  if (view === 'customers') showCustomers();
  else if (view === 'customer') showCustomer(customerId);
  else if (view === 'partners') showPartners();
  else showSettings();
  if (moveFocus) {
    const heading = byId(`view-${view}`).querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  }
}

async function submitSignIn(event) {
  event.preventDefault();
  const input = byId('signin-key');
  const button = byId('signin-submit');
  const token = input.value.trim();
  setMessage(byId('signin-error'), '');
  byId('signin-error').className = 'form-error';
  if (!token) {
    setMessage(byId('signin-error'), 'Enter your API key.');
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  button.disabled = true;
  button.textContent = 'Signing in…';
  try {
    const identity = await identify(token);
    session.store(token);
    input.value = '';
    input.removeAttribute('aria-invalid');
    enterApp(identity, token);
  } catch (error) {
    setMessage(byId('signin-error'), error.message);
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  } finally {
    button.disabled = false;
    button.textContent = 'Sign in';
  }
}

async function boot() {
  initDialogs();
  initCustomers(ctx);
  initDetail(ctx);
  initPartners(ctx);
  initSettings();
  byId('signin-form').addEventListener('submit', submitSignIn);
  byId('signout').addEventListener('click', () => signOut());
  byId('notice-close').addEventListener('click', hideNotice);
  window.addEventListener('hashchange', () => route(true));
  onUnauthenticated(() => {
    if (ctx.role) signOut('Your session has ended: the API key is unknown or has been revoked. Sign in again.', 'error');
  });

  const token = session.token();
  if (!token) {
    showSignIn();
    return;
  }
  try {
    enterApp(await identify(token), token);
  } catch (error) {
    if (error.status === 0) {
      // The server is unreachable: keep the key, say so, and let the user retry.
      showSignIn(error.message);
      return;
    }
    session.clear();
    showSignIn(error.message);
  }
}

boot().catch((error) => notify(`The console failed to start: ${error.message}`, 'error'));
