// Admin: the fleet's lifecycle (docs/dashboard.md "Admin"). Tokens are
// listed by their public id and revoked; enroll and re-enroll tokens are
// created, their secret shown once; hosts are renamed and removed. Every
// destructive action asks for a confirmation in place first.
import {api, ApiError, isReadOnly} from '../api.js';
import {h, message, replace, timeEl} from '../dom.js';

const dash = () => h('span', {class: 'muted'}, '–');
const when = (t, none) => t ? timeEl(t) : h('span', {class: 'muted'}, none);

function errorText(what, e) {
  if (e instanceof ApiError && e.status) return `${what}: ${e.status} ${e.code || ''} – ${e.message}`;
  return `${what}: ${e.message}`;
}

// A button that, once clicked, offers "Confirm" and "Cancel" in its place.
function confirmButton(label, confirmLabel, id, action) {
  const slot = h('span', {class: 'confirm-slot'});
  const ask = () => replace(slot, h('button', {type: 'button', class: 'danger', id: `${id}-confirm`,
    onclick: action}, confirmLabel), ' ',
  h('button', {type: 'button', onclick: idle}, 'Cancel'));
  const idle = () => replace(slot, h('button', {type: 'button', id, onclick: ask}, label));
  idle();
  return slot;
}

// The secret of a token just created: shown once, with how to use it.
function secretBox(created) {
  const hint = created.role === 'reenroll'
    ? `On the reinstalled host ${created.host}: driftwatch enroll --collector URL ` +
      `--token-file FILE --name ${created.host}`
    : 'Give it to whoever enrolls or reads; it is not shown again.';
  return h('div', {class: 'secret', id: 'token-secret', role: 'status'},
      h('p', {}, h('strong', {}, `New ${created.role} token ${created.id}`),
          created.host ? ` for host ${created.host}` : '',
          ' – copy it now, it is shown only once:'),
      h('input', {type: 'text', readonly: true, id: 'token-secret-value', value: created.token,
        'aria-label': 'the new token', onfocus: (ev) => ev.target.select()}),
      h('p', {class: 'help'}, hint));
}

export function adminView() {
  const root = h('section', {class: 'admin'}, h('h1', {tabindex: '-1'}, 'Admin'));
  if (isReadOnly()) {
    root.append(message('error', 'This page is for admin tokens: sign in with a token made by ' +
        'driftwatch-collector token create --role admin.'));
    return root;
  }
  const status = h('div', {class: 'status-area', id: 'admin-status', 'aria-live': 'polite'});
  const secret = h('div', {id: 'secret-area'});
  const tokensArea = h('div', {class: 'table-wrap', id: 'tokens'}, message('info', 'Loading tokens…'));
  const hostsArea = h('div', {class: 'table-wrap', id: 'admin-hosts'},
      message('info', 'Loading hosts…'));
  const say = (kind, text) => replace(status, message(kind, text));

  async function act(what, fn) {
    try {
      const done = await fn();
      say('info', done);
      await load();
    } catch (e) {
      say('error', errorText(what, e));
    }
  }

  async function createToken(body) {
    try {
      const created = await api.createToken(body);
      replace(secret, secretBox(created));
      say('info', `Created ${created.role} token ${created.id}.`);
      await load();
    } catch (e) {
      say('error', errorText('Creating the token', e));
    }
  }

  function tokenRow(t) {
    return h('tr', {'data-token': t.id, 'class': t.revoked ? 'revoked' : null},
        h('td', {}, h('code', {}, t.id)), h('td', {}, t.role), h('td', {}, t.host || dash()),
        h('td', {}, when(t.created, '–')), h('td', {}, when(t.expires, 'never')),
        h('td', {}, t.uses_left === null ? 'unlimited' : String(t.uses_left)),
        h('td', {}, t.revoked ? timeEl(t.revoked) : h('span', {class: 'ok'}, 'active')),
        h('td', {}, when(t.last_used, 'never')),
        h('td', {}, t.revoked ? '' : confirmButton('Revoke', `Revoke ${t.id}`, `revoke-${t.id}`,
            () => act(`Revoking ${t.id}`, async () => {
              const r = await api.revokeToken(t.id);
              return `Revoked token ${r.id}: its next request is refused.`;
            }))));
  }

  function hostRow(x) {
    const name = h('input', {'type': 'text', 'size': 14, 'aria-label': `new name for ${x.id}`,
      'id': `rename-${x.id}-name`, 'placeholder': 'new name'});
    const rename = confirmButton('Rename', `Rename ${x.id}`, `rename-${x.id}`,
        () => act(`Renaming ${x.id}`, async () => {
          const r = await api.renameHost(x.id, name.value.trim());
          return `Renamed host ${r.previous} to ${r.id}; its history moved with it.`;
        }));
    const remove = confirmButton('Remove', `Remove ${x.id} and its data`, `remove-${x.id}`,
        () => act(`Removing ${x.id}`, async () => {
          await api.removeHost(x.id);
          return `Removed host ${x.id}: its reports, events and inventory are deleted and its ` +
              'tokens revoked.';
        }));
    return h('tr', {'data-host': x.id},
        h('td', {}, h('a', {href: '#/hosts/' + encodeURIComponent(x.id)}, x.id)),
        h('td', {}, x.group || dash()), h('td', {}, when(x.last_seen, 'never')),
        h('td', {}, String(x.reports)),
        h('td', {class: 'actions'}, name, ' ', rename, ' ', remove, ' ',
            h('button', {type: 'button', id: `reenroll-${x.id}`,
              onclick: () => createToken({role: 'reenroll', host: x.id})}, 'Re-enroll token')));
  }

  async function load() {
    try {
      const [t, hs] = await Promise.all([api.tokens(), api.hosts()]);
      replace(tokensArea, h('table', {class: 'data'},
          h('caption', {}, `${t.tokens.length} tokens (secrets are never listed)`),
          h('thead', {}, h('tr', {}, ...['Id', 'Role', 'Host', 'Created', 'Expires', 'Uses left',
            'Revoked', 'Last used', ''].map((c) => h('th', {scope: 'col'}, c)))),
          h('tbody', {}, t.tokens.map(tokenRow))));
      replace(hostsArea, hs.hosts.length === 0 ? message('info', 'No hosts are enrolled.')
        : h('table', {class: 'data'}, h('caption', {}, `${hs.hosts.length} hosts`),
            h('thead', {}, h('tr', {}, ...['Host', 'Group', 'Last seen', 'Reports', 'Actions']
                .map((c) => h('th', {scope: 'col'}, c)))),
            h('tbody', {}, hs.hosts.map(hostRow))));
    } catch (e) {
      say('error', errorText('Loading', e));
    }
  }

  const role = h('select', {id: 'new-role', name: 'role'},
      ...['enroll', 'reenroll', 'read', 'admin'].map((r) => h('option', {value: r}, r)));
  const host = h('input', {id: 'new-host', name: 'host', type: 'text', size: 16,
    placeholder: 'host (reenroll)'});
  const uses = h('input', {id: 'new-uses', name: 'uses', type: 'number', min: 1, size: 5});
  const expires = h('input', {id: 'new-expires', name: 'expires', type: 'text', size: 6,
    placeholder: '7d'});
  const form = h('form', {class: 'inline-form', id: 'create-token', onsubmit: (ev) => {
    ev.preventDefault();
    const body = {role: role.value};
    if (host.value.trim()) body.host = host.value.trim();
    if (uses.value) body.uses = Number(uses.value);
    if (expires.value.trim()) body.expires = expires.value.trim();
    createToken(body);
  }},
  h('label', {for: 'new-role'}, 'Role '), role, ' ',
  h('label', {for: 'new-host'}, 'Host '), host, ' ',
  h('label', {for: 'new-uses'}, 'Uses '), uses, ' ',
  h('label', {for: 'new-expires'}, 'Expires in '), expires, ' ',
  h('button', {type: 'submit', class: 'primary'}, 'Create token'));

  root.append(status,
      h('h2', {}, 'Create a token'), form, secret,
      h('h2', {}, 'Tokens'), tokensArea,
      h('h2', {}, 'Hosts'), hostsArea);
  load();
  return root;
}
