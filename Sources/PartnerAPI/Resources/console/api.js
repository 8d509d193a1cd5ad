// api.js — the one way the console talks to the PartnerCenter API: adds the bearer token,
// sends and reads JSON, and turns error answers ({"error": {"code", "message"}}) into ApiError.
// The API key lives in sessionStorage only (this tab), never in a URL or in localStorage.

const TOKEN_KEY = 'partnerCenter.apiKey';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export const session = {
  token() {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  store(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear() {
    // Only this console writes to this origin's sessionStorage; clear all of it.
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.clear();
  },
};

let unauthenticatedHandler = null;

/** Called once when a request made with the stored key answers 401 (key revoked or unknown). */
export function onUnauthenticated(handler) {
  unauthenticatedHandler = handler;
}

const FALLBACK_MESSAGES = {
  400: 'The request was not understood.',
  401: 'The API key is unknown or revoked.',
  403: 'You are not allowed to do this.',
  404: 'Not found.',
  409: 'The request conflicts with the current state.',
  413: 'The request is too large.',
  422: 'The request is not valid.',
  429: 'Too many requests. Wait a moment and try again.',
  503: 'The service is unavailable. Try again shortly.',
};

/** The server's messages are lower-case phrases; show them as sentences. */
function sentence(text) {
  const trimmed = text.trim();
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
}

function buildURL(path, query) {
  const url = new URL(path, window.location.origin);
  if (query) {
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
    }
  }
  return url;
}

/**
 * request('GET', '/v1/customers', {query: {status: 'normal'}}) → parsed JSON body.
 * Options: query (object), body (JSON-encoded), token (use this key instead of the stored one).
 */
export async function request(method, path, options = {}) {
  const { query, body, token } = options;
  const key = token ?? session.token();
  const headers = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';

  let response;
  try {
    response = await fetch(buildURL(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The server cannot be reached. Check your connection and try again.');
  }

  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = data && typeof data === 'object' ? data.error : null;
    const code = error && typeof error.code === 'string' ? error.code : `http_${response.status}`;
    const message = error && typeof error.message === 'string' && error.message
      ? sentence(error.message)
      : FALLBACK_MESSAGES[response.status] || `The server answered ${response.status}.`;
    const failure = new ApiError(response.status, code, message);
    if (response.status === 401 && token === undefined && unauthenticatedHandler) unauthenticatedHandler(failure);
    throw failure;
  }
  return data;
}

/** Path segment for an id (ids come from the server; encode anyway). */
export const seg = (value) => encodeURIComponent(String(value));

export const api = {
  get: (path, query, options = {}) => request('GET', path, { ...options, query }),
  post: (path, body, options = {}) => request('POST', path, { ...options, body }),
  put: (path, body, options = {}) => request('PUT', path, { ...options, body }),
  patch: (path, body, options = {}) => request('PATCH', path, { ...options, body }),
  delete: (path, options = {}) => request('DELETE', path, options),
};
