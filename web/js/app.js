// The dashboard's entry point: sign-in, navigation and the hash router.
// Routes (the part after "#") carry every filter, so a URL can be shared;
// the token never does (sessionStorage only, see api.js).
import {api, ApiError, clearToken, getRole, getToken, onUnauthorized, setRole, setToken}
  from './api.js';
import {h, message, replace, routeParams} from './dom.js';
import {overviewView} from './views/overview.js';
import {hostsView} from './views/hosts.js';
import {hostView} from './views/host.js';
import {driftView} from './views/drift.js';
import {historyView} from './views/history.js';
import {kubernetesView} from './views/kubernetes.js';
import {groupView} from './views/group.js';
import {adminView} from './views/admin.js';

const ROUTES = [
  {re: /^\/$/, view: overviewView, nav: '/'},
  {re: /^\/hosts$/, view: hostsView, nav: '/hosts'},
  {re: /^\/hosts\/([^/]+)$/, view: hostView, nav: '/hosts'},
  {re: /^\/groups\/([^/]+)$/, view: groupView, nav: '/hosts'},
  {re: /^\/drift$/, view: driftView, nav: '/drift'},
  {re: /^\/history$/, view: historyView, nav: '/history'},
  {re: /^\/kubernetes$/, view: kubernetesView, nav: '/kubernetes'},
  {re: /^\/admin$/, view: adminView, nav: '/admin'},
];

const main = () => document.getElementById('main');
let signInNotice = null;  // shown once on the sign-in form (e.g. after a 401)

function currentRoute() {
  const hash = location.hash.startsWith('#/') ? location.hash : '#/';
  const path = hash.slice(1).split('?')[0];
  return {path, params: routeParams(hash)};
}

function renderSession(signedIn) {
  const nav = document.getElementById('nav');
  nav.hidden = !signedIn;
  const session = document.getElementById('session');
  if (!signedIn) {
    replace(session);
    return;
  }
  const role = getRole();
  document.getElementById('nav-admin').hidden = role !== 'admin';
  replace(session, h('span', {class: 'muted', id: 'session-role'},
      role ? `Signed in (${role})` : 'Signed in'), ' ',
      h('button', {type: 'button', class: 'link', id: 'signout', onclick: () => {
        clearToken();
        signInNotice = message('info', 'Signed out. The token was removed from this tab.');
        render();
      }}, 'Sign out'));
}

function signInView() {
  const status = h('div', {id: 'signin-status', class: 'status-area'});
  if (signInNotice) status.appendChild(signInNotice);
  signInNotice = null;
  const input = h('input', {id: 'token', name: 'token', type: 'password', autocomplete: 'off',
    spellcheck: 'false', required: true, placeholder: 'dw_…', 'aria-describedby': 'token-help'});
  const button = h('button', {type: 'submit', class: 'primary'}, 'Sign in');
  const form = h('form', {class: 'signin-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    button.disabled = true;
    replace(status, message('info', 'Checking the token…'));
    try {
      await api.tryToken(token);
      const who = await api.whoami(token);
      setToken(token, who.role);
      render();
    } catch (e) {
      replace(status, message('error', signInError(e)));
      input.focus();
      input.select();
    } finally {
      button.disabled = false;
    }
  }},
  h('label', {for: 'token'}, 'API token'),
  input,
  h('p', {id: 'token-help', class: 'help'},
      'A read or admin token, made with ',
      h('code', {}, 'driftwatch-collector token create --role read'),
      '. It is kept in this browser tab only (sessionStorage) and sent as a bearer token; ',
      'it never appears in a URL.'),
  button);
  return h('section', {class: 'signin'},
      h('h1', {tabindex: '-1'}, 'Sign in to driftwatch'), status, form);
}

function signInError(e) {
  if (e instanceof ApiError && e.status === 401) {
    return '401 Unauthorized: the collector does not know this token. Check that it was ' +
        'copied whole (dw_ and 64 hex digits) and has not been revoked.';
  }
  if (e instanceof ApiError && e.status === 403) {
    return '403 Forbidden: this token may not read the fleet (agent and enroll tokens cannot). ' +
        'Use a read or admin token.';
  }
  return 'Cannot sign in: ' + e.message;
}


function render(focus = false) {
  const signedIn = Boolean(getToken());
  renderSession(signedIn);
  if (!signedIn) {
    replace(main(), signInView());
    const input = document.getElementById('token');
    if (input) input.focus();
    return;
  }
  if (!getRole()) {
    // A tab signed in before roles were asked for: ask once, then draw.
    api.whoami().then((who) => {
      setRole(who.role);
      render(focus);
    }).catch(() => {
      setRole('read');  // offer no admin action when the role is unknown
      render(focus);
    });
    return;
  }
  const {path, params} = currentRoute();
  const route = ROUTES.find((r) => r.re.test(path));
  for (const a of document.querySelectorAll('#nav a')) {
    if (route && a.dataset.route === route.nav) {
      a.setAttribute('aria-current', 'page');
    } else {
      a.removeAttribute('aria-current');
    }
  }
  if (!route) {
    replace(main(), h('h1', {tabindex: '-1'}, 'Not found'),
        message('error', `There is no page "${path}".`), h('a', {href: '#/'}, 'Go to the overview'));
    return;
  }
  const match = path.match(route.re);
  const view = route.view({params, match: match.slice(1).map(decodeURIComponent),
    rerender: () => render(false)});
  replace(main(), view);
  if (focus) {
    const h1 = main().querySelector('h1');
    if (h1) h1.focus({preventScroll: false});
  }
}

onUnauthorized(() => {
  clearToken();
  signInNotice = message('error', '401 Unauthorized: the collector no longer accepts this ' +
      'token (it is unknown or was revoked). Sign in again.');
  render();
});

window.addEventListener('hashchange', () => render(true));
window.addEventListener('DOMContentLoaded', () => {
  document.getElementById('skip').addEventListener('click', (ev) => {
    ev.preventDefault();
    main().focus();
  });
  render();
});
