// `deputy serve` with Tier 1 on (Entra-style RS256 access tokens checked against a JWKS file, app roles mapped to
// tool tags), driven by the official TypeScript SDK client and attacked with raw fetch.
//
//   DEPUTY_BUILD_DIR=/path/to/build node --test sdk-client-auth.test.mjs
//
// Each suite generates its own RSA key pair (jose), writes the JWKS and a deputy.yaml into a temp dir, starts
// `$DEPUTY_BUILD_DIR/deputy serve -c deputy.yaml --host 127.0.0.1 --port 0` there (so no .env of the caller's applies,
// and the environment's AUTH_ENABLED/TENANT_ID/... are removed), mints tokens for its users and stops the server
// afterwards. Nothing leaves the loopback interface: the tests that follow the SDK's OAuth discovery towards Entra
// answer login.microsoftonline.com from a canned document inside the test's fetch.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as jose from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
    UnauthorizedError,
    discoverOAuthProtectedResourceMetadata,
    extractWWWAuthenticateParams,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

// ---- Fixtures: the tenant, the app registration, the users, deputy's tools. Adjust here when they move. -----------
const F = {
    tenantId: '3f6b2a1c-8d4e-4f5a-9b7c-2e1d0a9f8b7c',
    clientId: 'b7e2c4a9-1f3d-4e6b-8a5c-0d9e8f7a6b5c', // the MCP server's app registration (the token audience)
    clientAppId: '5c4d3e2f-1a0b-4c9d-8e7f-6a5b4c3d2e1f', // the client app (azp) that asks for tokens
    kid: 'deputy-interop-key-1',
    scope: 'access_as_user',
    get issuer() {
        return `https://login.microsoftonline.com/${this.tenantId}/v2.0`;
    },
    get scopeUri() {
        return `api://${this.clientId}/${this.scope}`;
    },
    // App roles of each user (Entra `roles` claim); oid is a stable per-user GUID.
    users: {
        alice: { roles: ['Task.All'], oid: '0a1b2c3d-0000-4000-8000-00000000a11c' },
        bob: { roles: ['Task.Read'], oid: '0a1b2c3d-0000-4000-8000-000000000b0b' },
        carol: { roles: ['Task.Write'], oid: '0a1b2c3d-0000-4000-8000-0000000ca201' },
        dave: { roles: [], oid: '0a1b2c3d-0000-4000-8000-00000000da7e' },
    },
    // What each user may see in tools/list.
    expectedTools: {
        alice: ['test_write_tool', 'whoami'],
        bob: ['whoami'],
        carol: ['test_write_tool', 'whoami'],
        dave: [],
    },
    readTool: 'whoami', // a read-tagged tool; it reaches Graph, for which this suite configures no credential
    writeTool: 'test_write_tool',
    writeText: 'This is a write test tool response',
    // The suite with a configured public URL (deputy behind a TLS-terminating proxy).
    publicUrl: 'https://deputy.example.test/mcp',
    // deputy's leeway for exp/nbf is 60 s by default: "expired" means well past that.
    expiredBySeconds: 3600,
};

const kTestTimeoutMs = 20_000;
const kReadyTimeoutMs = 10_000;
const kStopGraceMs = 3_000;
const kFetchTimeoutMs = 5_000;
const kClientInfo = { name: 'deputy-interop-auth', version: '1.0.0' };
const kProtocolVersion = '2025-06-18';
const kInitialize = {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: kProtocolVersion, capabilities: {}, clientInfo: kClientInfo },
};
// Variables that would change deputy's configuration from outside the test.
const kScrubbedEnv = ['AUTH_ENABLED', 'MIDDLEWARE_ENABLED', 'TENANT_ID', 'CLIENT_ID', 'ISSUER'];

// ---- The server. ----------------------------------------------------------------------------------------------------

function deputyExecutable() {
    const buildDir = process.env.DEPUTY_BUILD_DIR;
    if (!buildDir) {
        throw new Error("DEPUTY_BUILD_DIR is not set: point it at deputy's build directory (the one holding `deputy`).");
    }
    const exe = resolve(buildDir, 'deputy');
    if (!existsSync(exe)) throw new Error(`${exe} does not exist: build deputy first (DEPUTY_BUILD_DIR=${buildDir}).`);
    return exe;
}

/** deputy.yaml for this suite: Entra defaults (issuer, audiences, scope, version 2.0) and the seed's roles. */
function deputyYaml({ jwksFile, publicUrl }) {
    return [
        'server:',
        '  host: 127.0.0.1',
        ...(publicUrl ? [`  public_url: ${publicUrl}`] : []),
        'auth:',
        '  enabled: true',
        '  provider: entra',
        `  tenant_id: ${F.tenantId}`,
        `  client_id: ${F.clientId}`,
        `  jwks_file: ${jwksFile}`,
        '  algorithms: [RS256]',
        '  accepted_versions: ["2.0"]',
        `  required_scopes: [${F.scope}]`,
        '  leeway_seconds: 60',
        '  allow_app_only: false',
        'authz:',
        '  enabled: true',
        '  explain_denials: false',
        '',
    ].join('\n');
}

/**
 * A key pair, its JWKS and deputy.yaml in a fresh temp dir, and `deputy serve` started there.
 * Resolves to {url, origin, stderr(), stop(), privateKey, dir}.
 */
async function startDeputy({ publicUrl } = {}) {
    const exe = deputyExecutable();
    const dir = mkdtempSync(join(tmpdir(), 'deputy-auth-'));
    const { publicKey, privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await jose.exportJWK(publicKey)), kid: F.kid, alg: 'RS256', use: 'sig' };
    const jwksFile = join(dir, 'keys.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
    const yaml = join(dir, 'deputy.yaml');
    writeFileSync(yaml, deputyYaml({ jwksFile, publicUrl }));

    const env = { ...process.env };
    for (const name of kScrubbedEnv) delete env[name];
    const child = spawn(exe, ['serve', '-c', yaml, '--host', '127.0.0.1', '--port', '0'], {
        cwd: dir,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    let exited = null;
    const exitWaiters = [];
    child.on('exit', (code, signal) => {
        exited = { code, signal };
        for (const w of exitWaiters) w(exited);
    });
    const port = await new Promise((resolvePort, rejectPort) => {
        let settled = false;
        const fail = (why) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            child.kill('SIGKILL');
            rejectPort(new Error(`${why}\n--- deputy stderr ---\n${log}`));
        };
        const timer = setTimeout(() => fail(`deputy printed no ready line within ${kReadyTimeoutMs} ms`), kReadyTimeoutMs);
        child.on('error', (err) => fail(`cannot start ${exe}: ${err.message}`));
        exitWaiters.push(({ code, signal }) => fail(`deputy exited before it was ready (code ${code}, signal ${signal})`));
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', (chunk) => {
            log = (log + chunk).slice(-64 * 1024);
            const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(log);
            if (m && !settled) {
                settled = true;
                clearTimeout(timer);
                resolvePort(Number(m[1]));
            }
        });
    });
    const url = new URL(`http://127.0.0.1:${port}/mcp`);
    return {
        url,
        origin: url.origin,
        privateKey,
        dir,
        stderr: () => log,
        async stop() {
            if (!exited) {
                const gone = new Promise((r) => exitWaiters.push(r));
                child.kill('SIGTERM');
                const timer = setTimeout(() => child.kill('SIGKILL'), kStopGraceMs);
                await gone;
                clearTimeout(timer);
            }
            rmSync(dir, { recursive: true, force: true });
        },
    };
}

// ---- Tokens. ----------------------------------------------------------------------------------------------------------

/** The claims Entra puts in a v2 delegated access token for `user`, with `claims` over them and `drop` removed. */
function claimsFor(user, { claims = {}, drop = [] } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const u = F.users[user];
    const base = {
        aud: F.clientId,
        iss: F.issuer,
        iat: now - 5,
        nbf: now - 5,
        exp: now + 3600,
        azp: F.clientAppId,
        azpacr: '0',
        name: user[0].toUpperCase() + user.slice(1),
        oid: u.oid,
        preferred_username: `${user}@contoso.test`,
        roles: u.roles,
        scp: F.scope,
        sub: `sub-${user}-pairwise`,
        tid: F.tenantId,
        uti: randomUUID().replaceAll('-', ''),
        ver: '2.0',
    };
    const out = { ...base, ...claims };
    for (const name of drop) delete out[name];
    return out;
}

/** An RS256 JWS over `user`'s claims, signed with `key` (the suite's key unless another is given). */
async function mint(server, user, { key, kid = F.kid, ...shape } = {}) {
    return new jose.SignJWT(claimsFor(user, shape))
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .sign(key ?? server.privateKey);
}

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** An unsigned token (`alg: none`) carrying `user`'s otherwise valid claims. */
function unsignedToken(user) {
    return `${b64url({ alg: 'none', kid: F.kid, typ: 'JWT' })}.${b64url(claimsFor(user))}.`;
}

// ---- HTTP helpers. ------------------------------------------------------------------------------------------------------

/** One raw POST of a JSON-RPC message to deputy. */
async function post(url, message, { token, sessionId, headers = {} } = {}) {
    const h = {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        ...headers,
    };
    if (token) h.Authorization = `Bearer ${token}`;
    if (sessionId) {
        h['Mcp-Session-Id'] = sessionId;
        h['MCP-Protocol-Version'] = kProtocolVersion;
    }
    const response = await fetch(url, {
        method: 'POST',
        headers: h,
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(kFetchTimeoutMs),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, response };
}

/** initialize + notifications/initialized with raw fetch; returns the session id. */
async function openSession(url, token) {
    const init = await post(url, kInitialize, { token });
    assert.equal(init.status, 200, `initialize answered ${init.status}: ${init.text}`);
    const sessionId = init.headers.get('mcp-session-id');
    assert.ok(sessionId, 'initialize answered without an Mcp-Session-Id');
    const done = await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { token, sessionId });
    assert.equal(done.status, 202, `notifications/initialized answered ${done.status}: ${done.text}`);
    return sessionId;
}

/**
 * The auth-params of a `WWW-Authenticate: Bearer ...` challenge as an object (quoted strings unescaped), plus
 * `scheme`. Throws when there is no such header.
 */
function parseChallenge(headers) {
    const header = headers.get('www-authenticate');
    assert.ok(header, 'no WWW-Authenticate header');
    const m = /^\s*(\S+)\s*(.*)$/s.exec(header);
    const params = { scheme: m[1] };
    const re = /([A-Za-z0-9_!#$%&'*+.^`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*(?:,\s*|$)/gy;
    const rest = m[2];
    re.lastIndex = 0;
    let p;
    while (re.lastIndex < rest.length && (p = re.exec(rest)) !== null) {
        params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
    }
    assert.equal(re.lastIndex, rest.length, `could not parse the whole challenge: ${header}`);
    return params;
}

/** Asserts a 401 with a Bearer challenge carrying `error` (or none) and resource_metadata; returns the params. */
function assertChallenge(r, { status = 401, error } = {}) {
    assert.equal(r.status, status, `expected HTTP ${status}, got ${r.status}: ${r.text}`);
    const c = parseChallenge(r.headers);
    assert.equal(c.scheme.toLowerCase(), 'bearer', `challenge scheme is ${c.scheme}`);
    if (error === undefined) {
        assert.equal(c.error, undefined, `a request without a token must get a challenge without error= (RFC 6750 3.1)`);
    } else {
        assert.equal(c.error, error, `challenge error: ${r.headers.get('www-authenticate')}`);
    }
    assert.ok(c.resource_metadata, `challenge has no resource_metadata: ${r.headers.get('www-authenticate')}`);
    assert.doesNotThrow(() => new URL(c.resource_metadata), `resource_metadata is not a URL: ${c.resource_metadata}`);
    return c;
}

// ---- SDK helpers. -------------------------------------------------------------------------------------------------------

/** An SDK client connected to `url` with `token` on every request (or none). Returns {client, transport}. */
async function connectAs(url, token, transportOptions = {}) {
    const requestInit = token ? { headers: { Authorization: `Bearer ${token}` } } : undefined;
    const transport = new StreamableHTTPClientTransport(url, { requestInit, ...transportOptions });
    const client = new Client(kClientInfo);
    await client.connect(transport);
    return { client, transport };
}

async function toolNames(client) {
    const { tools } = await client.listTools();
    return tools.map((t) => t.name).sort();
}

function textOf(result) {
    return result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

/** Wraps a test body so a failure shows the tail of deputy's stderr. */
function withLog(getServer, body) {
    return async (t) => {
        try {
            await body(t);
        } catch (err) {
            const server = getServer();
            if (server && err && typeof err === 'object') {
                err.message = `${err.message}\n--- deputy stderr (tail) ---\n${server.stderr().split('\n').slice(-30).join('\n')}`;
            }
            throw err;
        }
    };
}

// A missing binary is a failure that says what to set, never a skip.
it('deputy is there', () => {
    deputyExecutable();
});

// ---- The SDK client, per user. --------------------------------------------------------------------------------------

describe('deputy serve with Entra-style tokens: the SDK client', () => {
    let server;
    const tokens = {};
    const open = [];
    const opt = { timeout: kTestTimeoutMs };
    const test = (name, body) => it(name, opt, withLog(() => server, body));
    const connectUser = async (user) => {
        const c = await connectAs(server.url, tokens[user]);
        open.push(c.client);
        return c;
    };

    before(async () => {
        server = await startDeputy();
        for (const user of Object.keys(F.users)) tokens[user] = await mint(server, user);
    });
    after(async () => {
        for (const client of open) await client.close().catch(() => {});
        await server?.stop();
    });

    for (const user of Object.keys(F.users)) {
        test(`${user} (${F.users[user].roles.join(', ') || 'no roles'}) lists exactly ${JSON.stringify(F.expectedTools[user])}`, async () => {
            const { client } = await connectUser(user);
            assert.deepEqual(await toolNames(client), F.expectedTools[user]);
        });
    }

    for (const user of ['alice', 'carol']) {
        test(`${user} calls ${F.writeTool}`, async () => {
            const { client } = await connectUser(user);
            const result = await client.callTool({ name: F.writeTool, arguments: {} });
            assert.notEqual(result.isError, true, JSON.stringify(result));
            assert.equal(textOf(result), F.writeText);
            assert.deepEqual(result.structuredContent, { message: F.writeText });
        });
    }

    test(`bob's call of ${F.writeTool} fails exactly like a call of a tool that does not exist`, async () => {
        const { client } = await connectUser('bob');
        const denied = await client.callTool({ name: F.writeTool, arguments: {} }).then(
            (r) => assert.fail(`bob called ${F.writeTool}: ${JSON.stringify(r)}`),
            (err) => err
        );
        assert.ok(denied instanceof McpError, `expected an McpError, got ${denied?.constructor?.name}: ${denied?.message}`);
        assert.equal(denied.code, ErrorCode.InvalidParams);
        assert.match(denied.message, new RegExp(`Unknown tool: ${F.writeTool}\\b`));
        assert.doesNotMatch(denied.message, /role|forbidden|denied|permission/i, 'the denial reveals that the tool exists');
        const unknown = await client.callTool({ name: 'no_such_tool', arguments: {} }).then(
            (r) => assert.fail(`a call of no_such_tool succeeded: ${JSON.stringify(r)}`),
            (err) => err
        );
        assert.equal(unknown.code, denied.code);
        assert.equal(unknown.message.replace('no_such_tool', F.writeTool), denied.message);
        // Arguments the schema would refuse must not make the denied tool answer differently either.
        const withBadArgs = await client.callTool({ name: F.writeTool, arguments: { unexpected: 1 } }).then(
            (r) => assert.fail(`bob called ${F.writeTool}: ${JSON.stringify(r)}`),
            (err) => err
        );
        assert.equal(withBadArgs.message, denied.message);
    });

    test("dave (no roles) gets 'Unknown tool' for whoami", async () => {
        const { client } = await connectUser('dave');
        await assert.rejects(client.callTool({ name: F.readTool, arguments: {} }), (err) => {
            assert.ok(err instanceof McpError);
            assert.equal(err.code, ErrorCode.InvalidParams);
            assert.match(err.message, /Unknown tool: whoami\b/);
            return true;
        });
    });

    for (const user of ['alice', 'bob', 'carol']) {
        test(`${user} calls whoami and is told the server has no credential for Graph`, async () => {
            const { client } = await connectUser(user);
            const result = await client.callTool({ name: F.readTool, arguments: {} });
            assert.equal(result.isError, true, JSON.stringify(result));
            assert.match(textOf(result), /no credential to obtain access to Microsoft Graph/);
        });
    }

    test('alice ends her session (DELETE, with her token); its id is unknown afterwards', async () => {
        const { client, transport } = await connectUser('alice');
        const sessionId = transport.sessionId;
        assert.ok(sessionId, 'the SDK transport has no session id');
        await transport.terminateSession();
        await client.close();
        const r = await post(server.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { token: tokens.alice, sessionId });
        assert.equal(r.status, 404, `the ended session answered ${r.status}: ${r.text}`);
    });

    test('without a token, connect rejects with HTTP 401', async () => {
        await assert.rejects(connectAs(server.url, undefined), (err) => {
            assert.ok(err instanceof StreamableHTTPError, `expected a StreamableHTTPError, got ${err?.constructor?.name}: ${err?.message}`);
            assert.equal(err.code, 401);
            return true;
        });
    });

    test('with a token signed by another key under the same kid, connect rejects with HTTP 401', async () => {
        const { privateKey: otherKey } = await jose.generateKeyPair('RS256');
        const forged = await mint(server, 'alice', { key: otherKey });
        await assert.rejects(connectAs(server.url, forged), (err) => {
            assert.ok(err instanceof StreamableHTTPError, `${err?.constructor?.name}: ${err?.message}`);
            assert.equal(err.code, 401);
            return true;
        });
    });

    test('with a token lacking the required scope, connect rejects with HTTP 403', async () => {
        const token = await mint(server, 'alice', { claims: { scp: 'User.Read' } });
        await assert.rejects(connectAs(server.url, token), (err) => {
            assert.ok(err instanceof StreamableHTTPError, `${err?.constructor?.name}: ${err?.message}`);
            assert.equal(err.code, 403);
            return true;
        });
    });

    test("the SDK's discoverOAuthProtectedResourceMetadata finds deputy's metadata and its authorization server", async () => {
        const prm = await discoverOAuthProtectedResourceMetadata(server.url);
        assert.deepEqual(prm.authorization_servers, [F.issuer]);
        assert.deepEqual(prm.scopes_supported, [F.scopeUri]);
        assert.deepEqual(prm.bearer_methods_supported, ['header']);
        assert.equal(typeof prm.resource, 'string');
    });

    test("the SDK reads deputy's 401 challenge: resource_metadata and scope", async () => {
        const r = await post(server.url, kInitialize);
        const params = extractWWWAuthenticateParams(r.response);
        assert.ok(params.resourceMetadataUrl instanceof URL, `no resource_metadata the SDK can read: ${r.headers.get('www-authenticate')}`);
        assert.equal(params.resourceMetadataUrl.pathname, '/.well-known/oauth-protected-resource/mcp');
        assert.equal(params.scope, F.scopeUri);
        assert.equal(params.error, undefined);
    });

    // Without server.public_url, the challenge and the metadata must name the address deputy actually bound (with
    // --port 0, known only at start), not the configuration's port.
    it(
        "without server.public_url, the challenge and the metadata name the address deputy listens on",
        opt,
        withLog(
            () => server,
            async () => {
                const r = await post(server.url, kInitialize);
                const c = assertChallenge(r);
                assert.equal(c.resource_metadata, `${server.origin}/.well-known/oauth-protected-resource/mcp`);
                const prm = await discoverOAuthProtectedResourceMetadata(server.url);
                assert.equal(prm.resource, server.url.href);
            }
        )
    );
});

// ---- From the attacker's side. -----------------------------------------------------------------------------------------

describe("deputy serve with Entra-style tokens: the attacker's side (raw fetch)", () => {
    let server;
    const opt = { timeout: kTestTimeoutMs };
    const test = (name, body) => it(name, opt, withLog(() => server, body));

    before(async () => {
        server = await startDeputy();
    });
    after(async () => {
        await server?.stop();
    });

    test('a valid token opens a session (the control for the refusals below)', async () => {
        await openSession(server.url, await mint(server, 'alice'));
    });

    test('no token: 401 with a Bearer challenge carrying resource_metadata and no error', async () => {
        const r = await post(server.url, kInitialize);
        const c = assertChallenge(r);
        assert.equal(new URL(c.resource_metadata).pathname, '/.well-known/oauth-protected-resource/mcp');
        assert.equal(c.scope, F.scopeUri);
    });

    test('GET and DELETE without a token: 401 too', async () => {
        for (const method of ['GET', 'DELETE']) {
            const response = await fetch(server.url, {
                method,
                headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': 'a'.repeat(32) },
                signal: AbortSignal.timeout(kFetchTimeoutMs),
            });
            await response.body?.cancel();
            assertChallenge({ status: response.status, headers: response.headers, text: '' });
        }
    });

    test('the protected resource metadata, at both well-known addresses', async () => {
        for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
            const response = await fetch(new URL(path, server.url), { signal: AbortSignal.timeout(kFetchTimeoutMs) });
            assert.equal(response.status, 200, path);
            assert.match(response.headers.get('content-type') ?? '', /^application\/json/, path);
            const prm = await response.json();
            assert.deepEqual(prm.authorization_servers, [F.issuer], path);
            assert.deepEqual(prm.scopes_supported, [F.scopeUri], path);
            assert.deepEqual(prm.bearer_methods_supported, ['header'], path);
            assert.equal(typeof prm.resource, 'string', path);
            assert.equal(new URL(prm.resource).pathname, '/mcp', path);
        }
    });

    // Each of these must be refused with 401 invalid_token, whatever the claims inside say.
    const refused = [
        ['signed by another key under the same kid', async () => mint(server, 'alice', { key: (await jose.generateKeyPair('RS256')).privateKey })],
        ['signed under an unknown kid', async () => mint(server, 'alice', { kid: 'no-such-key' })],
        ['expired', async () => {
            const now = Math.floor(Date.now() / 1000);
            return mint(server, 'alice', { claims: { iat: now - 2 * F.expiredBySeconds, nbf: now - 2 * F.expiredBySeconds, exp: now - F.expiredBySeconds } });
        }],
        ['not yet valid (nbf an hour ahead)', async () => mint(server, 'alice', { claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } })],
        ['without exp', async () => mint(server, 'alice', { drop: ['exp'] })],
        ['for another audience', async () => mint(server, 'alice', { claims: { aud: '00000003-0000-0000-c000-000000000000' } })],
        ['from another issuer', async () => mint(server, 'alice', { claims: { iss: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0' } })],
        ['from the v1 issuer of the same tenant', async () => mint(server, 'alice', { claims: { iss: `https://sts.windows.net/${F.tenantId}/` } })],
        ['of version 1.0', async () => mint(server, 'alice', { claims: { ver: '1.0' } })],
        ['with alg none', async () => unsignedToken('alice')],
        ['with its signature stripped', async () => (await mint(server, 'alice')).replace(/[^.]+$/, '')],
        ['with a payload altered after signing (roles), its original already accepted once', async () => {
            const original = await mint(server, 'bob');
            const accepted = await post(server.url, kInitialize, { token: original });
            assert.equal(accepted.status, 200, `bob's original token: ${accepted.status} ${accepted.text}`);
            const [h, p, s] = original.split('.');
            const altered = { ...JSON.parse(Buffer.from(p, 'base64url')), roles: ['Task.All'] };
            return `${h}.${b64url(altered)}.${s}`;
        }],
        ['app-only (no scp)', async () => mint(server, 'alice', { drop: ['scp'], claims: { roles: ['Task.All'], idtyp: 'app' } })],
        ['not a JWT at all', async () => 'not-a-jwt'],
    ];
    for (const [what, make] of refused) {
        test(`a token ${what}: 401 invalid_token`, async () => {
            const r = await post(server.url, kInitialize, { token: await make() });
            assertChallenge(r, { error: 'invalid_token' });
            assert.equal(r.headers.get('mcp-session-id'), null, 'a refused request opened a session');
        });
    }

    test('a token without the required scope: 403 insufficient_scope naming the scope', async () => {
        const r = await post(server.url, kInitialize, { token: await mint(server, 'alice', { claims: { scp: 'User.Read' } }) });
        const c = assertChallenge(r, { status: 403, error: 'insufficient_scope' });
        assert.equal(c.scope, F.scopeUri);
    });

    test('a token in the query string: 401 invalid_request, also when the header carries one too', async () => {
        const token = await mint(server, 'alice');
        const inQuery = new URL(server.url);
        inQuery.searchParams.set('access_token', token);
        for (const headerToken of [undefined, token]) {
            const r = await post(inQuery, kInitialize, { token: headerToken });
            assertChallenge(r, { error: 'invalid_request' });
        }
    });

    test("bob's token on alice's session: 404 for POST, GET and DELETE, and alice's session lives on", async () => {
        const alice = await mint(server, 'alice');
        const bob = await mint(server, 'bob');
        const sessionId = await openSession(server.url, alice);

        const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
        const hijack = await post(server.url, list, { token: bob, sessionId });
        assert.equal(hijack.status, 404, `bob on alice's session: ${hijack.status} ${hijack.text}`);
        assert.doesNotMatch(hijack.text, /test_write_tool/);
        for (const method of ['GET', 'DELETE']) {
            const response = await fetch(server.url, {
                method,
                headers: {
                    Accept: 'text/event-stream',
                    Authorization: `Bearer ${bob}`,
                    'Mcp-Session-Id': sessionId,
                    'MCP-Protocol-Version': kProtocolVersion,
                },
                signal: AbortSignal.timeout(kFetchTimeoutMs),
            });
            await response.body?.cancel();
            assert.equal(response.status, 404, `bob's ${method} on alice's session answered ${response.status}`);
        }

        // Without a token it is a 401, not a 404: the session id alone is no credential.
        assertChallenge(await post(server.url, list, { sessionId }));

        // alice, with a fresh token of hers (another uti), still has her session and her tools.
        const again = await post(server.url, list, { token: await mint(server, 'alice'), sessionId });
        assert.equal(again.status, 200, `alice after the attempts: ${again.status} ${again.text}`);
        const tools = JSON.parse(again.text).result.tools.map((t) => t.name).sort();
        assert.deepEqual(tools, F.expectedTools.alice);
    });

    // Authorization is a singleton field (RFC 9110 5.3, RFC 6750 2.1): a request carrying two is ambiguous (a proxy
    // in front may look at the other one) and is refused.
    it(
        "two Authorization header lines (alice's, bob's): refused, not served as either",
        opt,
        withLog(
            () => server,
            async () => {
                const body = JSON.stringify(kInitialize);
                const status = await new Promise((resolveStatus, reject) => {
                    const req = httpRequest(
                        server.url,
                        {
                            method: 'POST',
                            headers: {
                                'Content-Type': 'application/json',
                                Accept: 'application/json, text/event-stream',
                                'Content-Length': Buffer.byteLength(body),
                            },
                            timeout: kFetchTimeoutMs,
                        },
                        (res) => {
                            res.resume();
                            res.on('end', () => resolveStatus(res.statusCode));
                        }
                    );
                    req.on('error', reject);
                    req.on('timeout', () => req.destroy(new Error('timed out')));
                    (async () => {
                        // Two field lines, not one combined value.
                        req.setHeader('Authorization', [`Bearer ${await mint(server, 'alice')}`, `Bearer ${await mint(server, 'bob')}`]);
                        req.end(body);
                    })().catch(reject);
                });
                assert.ok(status === 400 || status === 401, `two Authorization lines answered ${status}`);
            }
        )
    );

    test("an expired token of alice's own on her session: 401", async () => {
        const sessionId = await openSession(server.url, await mint(server, 'alice'));
        const now = Math.floor(Date.now() / 1000);
        const expired = await mint(server, 'alice', { claims: { exp: now - F.expiredBySeconds, nbf: now - 2 * F.expiredBySeconds } });
        assertChallenge(await post(server.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { token: expired, sessionId }), {
            error: 'invalid_token',
        });
    });
});

// ---- deputy behind a proxy: a configured public URL, and the SDK's whole OAuth discovery. -------------------------

describe('deputy serve with a configured public_url: the SDK OAuth flow starts', () => {
    let server;
    const opt = { timeout: kTestTimeoutMs };
    const test = (name, body) => it(name, opt, withLog(() => server, body));
    const publicUrl = new URL(F.publicUrl);
    const entraOrigin = 'https://login.microsoftonline.com';
    // What Entra's v2 discovery document says (the fields the SDK reads).
    const entraMetadata = () => ({
        issuer: F.issuer,
        authorization_endpoint: `${entraOrigin}/${F.tenantId}/oauth2/v2.0/authorize`,
        token_endpoint: `${entraOrigin}/${F.tenantId}/oauth2/v2.0/token`,
        jwks_uri: `${entraOrigin}/${F.tenantId}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    });

    /**
     * A fetch that plays the network: the public origin is a reverse proxy to deputy on loopback, Entra's origin
     * answers its discovery document (404 elsewhere, as Entra does for the RFC 8414 addresses), anything else fails.
     */
    function networkFetch(log) {
        return async (input, init) => {
            const url = new URL(input instanceof Request ? input.url : String(input));
            log.push(`${init?.method ?? 'GET'} ${url.href}`);
            if (url.origin === publicUrl.origin) {
                return fetch(new URL(url.pathname + url.search, server.origin), init);
            }
            if (url.origin === entraOrigin) {
                if (url.pathname === `/${F.tenantId}/v2.0/.well-known/openid-configuration`) {
                    return Response.json(entraMetadata());
                }
                return new Response('', { status: 404 });
            }
            throw new Error(`this test's network has no route to ${url.href}`);
        };
    }

    /** The client side of a pre-registered Entra app (no DCR): records the authorization redirect. */
    class PreRegisteredClient {
        redirects = [];
        #tokens;
        #verifier;
        get redirectUrl() {
            return 'http://127.0.0.1:33418/callback';
        }
        get clientMetadata() {
            return { client_name: kClientInfo.name, redirect_uris: [this.redirectUrl] };
        }
        clientInformation() {
            return { client_id: F.clientAppId };
        }
        tokens() {
            return this.#tokens;
        }
        saveTokens(tokens) {
            this.#tokens = tokens;
        }
        redirectToAuthorization(url) {
            this.redirects.push(new URL(url));
        }
        saveCodeVerifier(verifier) {
            this.#verifier = verifier;
        }
        codeVerifier() {
            return this.#verifier;
        }
    }

    before(async () => {
        server = await startDeputy({ publicUrl: F.publicUrl });
    });
    after(async () => {
        await server?.stop();
    });

    test('the challenge and the metadata name the public URL', async () => {
        const r = await post(server.url, kInitialize);
        const c = assertChallenge(r);
        assert.equal(c.resource_metadata, `${publicUrl.origin}/.well-known/oauth-protected-resource${publicUrl.pathname}`);
        const prm = await discoverOAuthProtectedResourceMetadata(server.url);
        assert.equal(prm.resource, F.publicUrl);
        assert.deepEqual(prm.authorization_servers, [F.issuer]);
    });

    test('an SDK client without tokens follows the challenge to Entra and asks the user to authorize; with the token it connects', async () => {
        const log = [];
        const provider = new PreRegisteredClient();
        const client = new Client(kClientInfo);
        const transport = new StreamableHTTPClientTransport(publicUrl, { authProvider: provider, fetch: networkFetch(log) });
        await assert.rejects(client.connect(transport), (err) => {
            assert.ok(err instanceof UnauthorizedError, `expected UnauthorizedError, got ${err?.constructor?.name}: ${err?.message}\n${log.join('\n')}`);
            return true;
        });
        await client.close().catch(() => {});

        // Discovery went: deputy (401) → deputy's metadata at the address of the challenge → Entra's metadata.
        assert.ok(log.includes(`GET ${publicUrl.origin}/.well-known/oauth-protected-resource/mcp`), log.join('\n'));
        assert.ok(log.includes(`GET ${entraOrigin}/${F.tenantId}/v2.0/.well-known/openid-configuration`), log.join('\n'));
        assert.equal(provider.redirects.length, 1, `expected one authorization redirect:\n${log.join('\n')}`);
        const authorize = provider.redirects[0];
        assert.equal(`${authorize.origin}${authorize.pathname}`, `${entraOrigin}/${F.tenantId}/oauth2/v2.0/authorize`);
        assert.equal(authorize.searchParams.get('client_id'), F.clientAppId);
        assert.equal(authorize.searchParams.get('response_type'), 'code');
        assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
        assert.equal(authorize.searchParams.get('scope'), F.scopeUri);
        assert.equal(authorize.searchParams.get('resource'), F.publicUrl);

        // The user signed in; Entra's answer is alice's token. The same provider now connects.
        const aliceToken = await mint(server, 'alice');
        provider.saveTokens({ access_token: aliceToken, token_type: 'Bearer', expires_in: 3600, issuer: F.issuer });
        const authed = new Client(kClientInfo);
        await authed.connect(new StreamableHTTPClientTransport(publicUrl, { authProvider: provider, fetch: networkFetch(log) }));
        try {
            assert.deepEqual(await toolNames(authed), F.expectedTools.alice);
        } finally {
            await authed.close().catch(() => {});
        }
    });
});
