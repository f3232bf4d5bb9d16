/// The admin page's swift-mustache templates, style sheet and script — compiled into the
/// binary (no files to install, no CDN). `{{…}}` escapes HTML; nothing here uses `{{{…}}}`.
enum AdminPageTemplates {
    static let layout = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>authd admin{{#tenant}} · {{name}}{{/tenant}}</title><link rel="stylesheet" href="/auth/admin/app.css"></head>
        <body data-mode="{{mode}}" data-tenant="{{#tenant}}{{slug}}{{/tenant}}">
        <header><strong>authd admin</strong>
        {{#who}}<span id="who">{{who}}</span>{{/who}}
        {{#platform}}<label>Tenant <select id="tenant-switch">{{#tenants}}<option value="{{slug}}"{{#selected}} selected{{/selected}}>{{name}} ({{slug}})</option>{{/tenants}}</select></label>{{/platform}}
        {{#who}}<button id="logout" type="button">Sign out</button>{{/who}}
        </header><main>
        """

    static let footer = """
        </main><script src="/auth/admin/app.js"></script></body></html>
        """

    static let login = """
        {{> layout}}
        <section class="card"><h1>Platform admin</h1>
        <form id="platform-login"><input name="email" type="email" placeholder="e-mail" required autocomplete="username">
        <input name="password" type="password" placeholder="password" required autocomplete="current-password">
        <button type="submit">Sign in</button></form></section>
        <section class="card"><h1>Tenant admin</h1>
        <form id="tenant-login"><input name="tenant" placeholder="tenant (slug)" value="default" required>
        <input name="email" type="email" placeholder="e-mail" required autocomplete="username">
        <input name="password" type="password" placeholder="password" required autocomplete="current-password">
        <button type="submit">Sign in</button></form></section>
        <p id="message" role="alert">{{message}}</p>
        {{> footer}}
        """

    static let dashboard = """
        {{> layout}}
        {{#canUsers}}<section class="card"><h1>Users <small>{{total}}</small></h1>
        <form method="get" action="/auth/admin">{{#platform}}<input type="hidden" name="tenant" value="{{#tenant}}{{slug}}{{/tenant}}">{{/platform}}
        <input id="search" name="q" value="{{query}}" placeholder="search e-mail or phone"><button id="search-go" type="submit">Search</button></form>
        <table id="users"><tr><th>E-mail</th><th>Phone</th><th>Active</th><th>Roles</th><th>Created</th></tr>
        {{#users}}<tr><td><a class="user-link" href="/auth/admin/users/{{id}}{{tenantQuery}}">{{email}}</a></td><td>{{phone}}</td><td>{{active}}</td><td>{{roles}}</td><td>{{createdAt}}</td></tr>{{/users}}
        </table></section>{{/canUsers}}
        {{#canRoles}}<section class="card"><h1>Roles</h1><table id="roles"><tr><th>Role</th><th>Permissions</th><th>System</th><th>Active</th></tr>
        {{#roles}}<tr><td>{{reference}}</td><td>{{permissions}}</td><td>{{system}}</td><td>{{active}}</td></tr>{{/roles}}</table></section>{{/canRoles}}
        {{#canAudit}}<section class="card"><h1>Audit log</h1><table id="audit"><tr><th>Time</th><th>Event</th><th>Outcome</th><th>User</th><th>Actor</th><th>Address</th></tr>
        {{#audit}}<tr><td>{{createdAt}}</td><td>{{kind}}</td><td>{{outcome}}</td><td>{{userId}}</td><td>{{actor}}</td><td>{{ip}}</td></tr>{{/audit}}</table></section>{{/canAudit}}
        {{#canEvents}}<section class="card"><h1>Dead letters</h1><table id="dead"><tr><th>Group</th><th>Event</th><th>Attempts</th><th>Error</th><th></th></tr>
        {{#dead}}<tr><td>{{group}}</td><td>{{type}}</td><td>{{attempts}}</td><td>{{error}}</td><td><button class="retry" data-group="{{group}}" data-event="{{eventId}}">Retry</button></td></tr>{{/dead}}</table></section>{{/canEvents}}
        <p id="message" role="alert"></p>
        {{> footer}}
        """

    static let user = """
        {{> layout}}
        <p><a href="/auth/admin{{tenantQuery}}">← users</a></p>
        <section class="card"><h1 id="user-email">{{email}}</h1>
        <p>Phone {{phone}} · active {{active}} · MFA {{mfa}} · roles {{roles}} · created {{createdAt}}</p></section>
        <section class="card"><h1>Sessions <small id="session-count">{{sessionCount}}</small></h1>
        <table id="sessions"><tr><th>Device</th><th>Address</th><th>Created</th><th>Last active</th><th></th></tr>
        {{#sessions}}<tr><td>{{device}}</td><td>{{ip}}</td><td>{{createdAt}}</td><td>{{lastActiveAt}}</td>
        <td><button class="revoke" data-user="{{userId}}" data-session="{{id}}">Revoke</button></td></tr>{{/sessions}}</table>
        <button id="revoke-all" data-user="{{id}}">Revoke all sessions</button></section>
        <p id="message" role="alert"></p>
        {{> footer}}
        """

    static let css = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
        header{display:flex;gap:1rem;align-items:center;padding:.6rem 1rem;background:#1d2330;color:#fff}
        header #who{margin-left:auto}main{padding:1rem;max-width:1100px}
        .card{background:#fff;border-radius:6px;padding:.8rem 1rem;margin-bottom:1rem;box-shadow:0 1px 2px #0002}
        h1{font-size:1.1rem;margin:.2rem 0 .6rem}table{border-collapse:collapse;width:100%}
        th,td{text-align:left;padding:.3rem .4rem;border-bottom:1px solid #e3e5ea;vertical-align:top}
        input{padding:.3rem;margin:.2rem}button{padding:.3rem .7rem;cursor:pointer}#message{color:#b00020}
        """

    /// Plain JavaScript: sign-in, sign-out, tenant switch, revoke and retry — each through the
    /// JSON API with the credential of the page's mode (console cookie + x-tenant-id, or the
    /// tenant admin's access-token cookie + its CSRF token).
    static let script = """
        (function () {
          const body = document.body, mode = body.dataset.mode, tenant = body.dataset.tenant;
          const say = (text) => { const m = document.getElementById('message'); if (m) m.textContent = text; };
          const cookie = (name) => (document.cookie.split('; ').find((c) => c.startsWith(name + '=')) || '').slice(name.length + 1);
          function headers(write) {
            const h = { 'content-type': 'application/json' };
            if (mode === 'platform') h['x-tenant-id'] = tenant;
            if (mode === 'tenant') { h['x-access-token-type'] = 'cookie'; if (write) h['x-csrf-token'] = decodeURIComponent(cookie('authd_csrf')); }
            return h;
          }
          async function call(method, path, json) {
            const r = await fetch(path, { method, headers: headers(method !== 'GET'), credentials: 'same-origin', body: json ? JSON.stringify(json) : undefined });
            const answer = await r.json().catch(() => ({}));
            if (!r.ok) throw new Error(answer.message || answer.code || ('HTTP ' + r.status));
            return answer;
          }
          const form = (id, handler) => { const f = document.getElementById(id); if (f) f.addEventListener('submit', (e) => { e.preventDefault(); handler(new FormData(f)).catch((err) => say(err.message)); }); };
          form('platform-login', async (d) => {
            await call('POST', '/auth/admin/login', { email: d.get('email'), password: d.get('password') });
            location.reload();
          });
          form('tenant-login', async (d) => {
            const r = await fetch('/auth/login', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-access-token-type': 'cookie' },
              body: JSON.stringify({ tenantId: d.get('tenant'), credentials: { email: d.get('email'), password: d.get('password') } }) });
            const answer = await r.json().catch(() => ({}));
            if (!r.ok) throw new Error(answer.message || answer.code);
            if (answer.isRequiresMfa) throw new Error('Finish the second factor in your application first');
            location.reload();
          });
          const logout = document.getElementById('logout');
          if (logout) logout.addEventListener('click', async () => {
            if (mode === 'platform') await fetch('/auth/admin/logout', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: '{}' });
            else await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin', headers: headers(true), body: '{}' });
            location.href = '/auth/admin';
          });
          const sw = document.getElementById('tenant-switch');
          if (sw) sw.addEventListener('change', () => { location.href = '/auth/admin?tenant=' + encodeURIComponent(sw.value); });
          document.querySelectorAll('button.revoke').forEach((b) => b.addEventListener('click', async () => {
            try { await call('DELETE', '/auth/admin/api/users/' + b.dataset.user + '/sessions/' + b.dataset.session); b.closest('tr').remove(); say('Session revoked'); }
            catch (err) { say(err.message); }
          }));
          const all = document.getElementById('revoke-all');
          if (all) all.addEventListener('click', async () => {
            try { const r = await call('DELETE', '/auth/admin/api/users/' + all.dataset.user + '/sessions'); say(r.revoked + ' sessions revoked'); document.querySelectorAll('#sessions button.revoke').forEach((b) => b.closest('tr').remove()); }
            catch (err) { say(err.message); }
          });
          document.querySelectorAll('button.retry').forEach((b) => b.addEventListener('click', async () => {
            try { await call('POST', '/auth/admin/api/events/deliveries/' + b.dataset.group + '/' + b.dataset.event + '/retry', {}); b.closest('tr').remove(); say('Queued again'); }
            catch (err) { say(err.message); }
          }));
        })();
        """
}
