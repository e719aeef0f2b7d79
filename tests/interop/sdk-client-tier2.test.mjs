// `deputy dev` (the development identity provider, the dev Microsoft Graph and the MCP server in one process)
// driven by the official TypeScript SDK client with the provider's own tokens, checked with raw fetch, the dev
// Graph's request log and the audit file written across SIGTERM; and the seed's client stack end to end: real
// MSAL Python signing alice in through the provider's pages, then the SDK client calling deputy with her token.
//
//   DEPUTY_BUILD_DIR=/path/to/build node --test sdk-client-tier2.test.mjs
//
// Each suite starts `$DEPUTY_BUILD_DIR/deputy dev --port 0 --idp-port 0 --graph-port 0 --state <tmp>` with
// `--audit-file <tmp>/audit.log`, in its temp dir and without the caller's AUTH_ENABLED/TENANT_ID/..., reads the
// ports from its stderr, mints tokens with `deputy idp mint-token --state <tmp>` and stops it with SIGTERM.
// Everything stays on loopback; the provider's and Graph's TLS is trusted through <tmp>/ca.pem only.
// The users (examples/dev-directory.yaml): alice (Task.All, reads test-site), bob (Task.Read, reads nothing),
// carol (Task.Write, MFA required before Graph), dave (Task.Read, has not consented to Graph).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

const execFileAsync = promisify(execFile);
const kHere = dirname(fileURLToPath(import.meta.url));

// ---- Fixtures (examples/dev-directory.yaml and deputy's seed tools). Adjust here when they move. --------------------
const F = {
    tenantId: 'b22dd19b-fad0-4513-a43e-46a8cb3ca698',
    serverId: 'd894da85-e1f8-4202-b8d8-bbfc24cbe604', // the MCP server's app registration
    clientId: '37d1e7dc-e348-4df1-80dc-69156bdc1273', // the seed's client app
    clientSecret: 'dev-client-secret-not-for-production',
    redirectUri: 'http://localhost:8100/auth/callback',
    get scopeUri() {
        return `api://${this.serverId}/access_as_user`;
    },
    graphAudience: 'https://graph.microsoft.com',
    carolPolicyId: 'f80160ba-329b-422e-beb7-51afef74a32a',
    users: {
        alice: { upn: 'alice@deputy-dev.test', password: 'dev-password-alice', name: 'Alice Adams' },
        bob: { upn: 'bob@deputy-dev.test', password: 'dev-password-bob', name: 'Bob Brown' },
        carol: { upn: 'carol@deputy-dev.test', password: 'dev-password-carol', name: 'Carol Clark' },
        dave: { upn: 'dave@deputy-dev.test', password: 'dev-password-dave', name: 'Dave Davis' },
    },
    expectedTools: {
        alice: ['check_sharepoint_site_access', 'test_write_tool', 'whoami'],
        bob: ['check_sharepoint_site_access', 'whoami'],
        carol: ['check_sharepoint_site_access', 'test_write_tool', 'whoami'],
        dave: ['check_sharepoint_site_access', 'whoami'],
    },
    siteTool: 'check_sharepoint_site_access',
    site: 'test-site',
    unknownSite: 'no-such-site',
    granted: (site) => `✅ Access granted to site: ${site}`,
    denied: (site) => `❌ Access denied to site: ${site}`,
    writeTool: 'test_write_tool',
    writeText: 'This is a write test tool response',
    readTool: 'whoami',
};

const kTestTimeoutMs = 30_000;
const kAuditTestTimeoutMs = 90_000;
const kReadyTimeoutMs = 15_000;
// SIGTERM drains requests and closes the audit trail; a sink may take up to 10 s to give up (docs/audit.md).
const kTermTimeoutMs = 20_000;
const kFetchTimeoutMs = 10_000;
const kMintTimeoutMs = 10_000;
const kSignInTimeoutMs = 30_000;
// The MFA page's code for users without their own mfa_code in the directory (docs/devidp-sign-in.md).
const kDevOtp = '000000';
const kClientInfo = { name: 'deputy-interop-tier2', version: '1.0.0' };
const kProtocolVersion = '2025-06-18';
const kInitialize = {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: kProtocolVersion, capabilities: {}, clientInfo: kClientInfo },
};
// Variables that would change deputy's configuration from outside the test.
const kScrubbedEnv = ['AUTH_ENABLED', 'MIDDLEWARE_ENABLED', 'TENANT_ID', 'CLIENT_ID', 'CLIENT_SECRET', 'ISSUER'];
const kStderrKeepBytes = 64 * 1024;

// ---- deputy dev. ------------------------------------------------------------------------------------------------------

function deputyExecutable() {
    const buildDir = process.env.DEPUTY_BUILD_DIR;
    if (!buildDir) {
        throw new Error("DEPUTY_BUILD_DIR is not set: point it at deputy's build directory (the one holding `deputy`).");
    }
    const exe = resolve(buildDir, 'deputy');
    if (!existsSync(exe)) throw new Error(`${exe} does not exist: build deputy first (DEPUTY_BUILD_DIR=${buildDir}).`);
    return exe;
}

function scrubbedEnv() {
    const env = { ...process.env };
    for (const name of kScrubbedEnv) delete env[name];
    return env;
}

/**
 * `deputy dev` on free ports with a fresh state dir and an audit file in it. Resolves to
 * {url, origin, authority, idpOrigin, graphOrigin, dir, ca, auditFile, stderr(), terminate(), stop()}.
 */
async function startDev({ extraArgs = [] } = {}) {
    const exe = deputyExecutable();
    const dir = mkdtempSync(join(tmpdir(), 'deputy-tier2-'));
    const auditFile = join(dir, 'audit.log');
    const child = spawn(
        exe,
        ['dev', '--port', '0', '--idp-port', '0', '--graph-port', '0', '--state', dir, '--audit-file', auditFile, ...extraArgs],
        { cwd: dir, env: scrubbedEnv(), stdio: ['ignore', 'ignore', 'pipe'] }
    );
    let log = '';
    let exited = null;
    const exitWaiters = [];
    child.on('exit', (code, signal) => {
        exited = { code, signal };
        for (const w of exitWaiters) w(exited);
    });
    const waitExit = () => (exited ? Promise.resolve(exited) : new Promise((r) => exitWaiters.push(r)));
    const ready = await new Promise((resolveReady, rejectReady) => {
        let settled = false;
        const fail = (why) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            child.kill('SIGKILL');
            rmSync(dir, { recursive: true, force: true });
            rejectReady(new Error(`${why}\n--- deputy stderr ---\n${log}`));
        };
        const timer = setTimeout(() => fail(`deputy dev printed no ready line within ${kReadyTimeoutMs} ms`), kReadyTimeoutMs);
        child.on('error', (err) => fail(`cannot start ${exe}: ${err.message}`));
        exitWaiters.push(({ code, signal }) => fail(`deputy dev exited before it was ready (code ${code}, signal ${signal})`));
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', (chunk) => {
            log = (log + chunk).slice(-kStderrKeepBytes);
            const mcp = /listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(log);
            if (!mcp || settled) return;
            const authority = /authority\s+(https:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+)\s/.exec(log);
            const graph = /dev graph:\s+(https:\/\/127\.0\.0\.1:\d+)\/v1\.0/.exec(log);
            if (!authority || !graph) return fail('deputy dev printed its MCP address but not its authority or dev Graph');
            settled = true;
            clearTimeout(timer);
            resolveReady({ port: Number(mcp[1]), authority: authority[1], graphOrigin: graph[1] });
        });
    });
    const url = new URL(`http://127.0.0.1:${ready.port}/mcp`);
    return {
        url,
        origin: url.origin,
        authority: ready.authority,
        idpOrigin: new URL(ready.authority).origin,
        graphOrigin: ready.graphOrigin,
        dir,
        ca: join(dir, 'ca.pem'),
        auditFile,
        stderr: () => log,
        /** SIGTERM, then the exit ({code, signal}); SIGKILL and a rejection past kTermTimeoutMs. */
        async terminate() {
            if (exited) return exited;
            child.kill('SIGTERM');
            let timer;
            const late = new Promise((_, reject) => {
                timer = setTimeout(() => {
                    child.kill('SIGKILL');
                    reject(new Error(`deputy dev did not exit within ${kTermTimeoutMs} ms of SIGTERM`));
                }, kTermTimeoutMs);
            });
            try {
                return await Promise.race([waitExit(), late]);
            } finally {
                clearTimeout(timer);
            }
        },
        async stop() {
            await this.terminate().catch(() => {});
            rmSync(dir, { recursive: true, force: true });
        },
    };
}

/** `deputy idp mint-token` for `user` against `server`'s state dir (the provider's URL comes from <state>/url). */
async function mintToken(server, user, { mfa = false, issuedAgo } = {}) {
    const args = ['idp', 'mint-token', '--state', server.dir, '--user', user];
    if (mfa) args.push('--mfa');
    if (issuedAgo !== undefined) args.push('--issued-ago', String(issuedAgo));
    const { stdout } = await execFileAsync(deputyExecutable(), args, {
        env: scrubbedEnv(),
        timeout: kMintTimeoutMs,
    });
    const token = stdout.trim();
    assert.match(token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/, `mint-token for ${user} printed no JWT`);
    return token;
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** GET `url` over HTTPS trusting only `caFile`; the parsed JSON body. */
function getJsonWithCa(url, caFile) {
    return new Promise((resolveGet, reject) => {
        const req = httpsRequest(url, { method: 'GET', ca: readFileSync(caFile), timeout: kFetchTimeoutMs }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => {
                if (res.statusCode !== 200) return reject(new Error(`GET ${url} answered ${res.statusCode}: ${body}`));
                try {
                    resolveGet(JSON.parse(body));
                } catch (err) {
                    reject(new Error(`GET ${url}: not JSON (${err.message}): ${body.slice(0, 200)}`));
                }
            });
        });
        req.on('error', reject);
        req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
        req.end();
    });
}

// ---- Raw HTTP. ----------------------------------------------------------------------------------------------------------

async function post(url, message, { token, sessionId } = {}) {
    const h = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
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
    return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The JSON-RPC message of a raw answer, whether sent as JSON or as one SSE event. */
function messageOf(r) {
    const type = r.headers.get('content-type') ?? '';
    if (type.includes('text/event-stream')) {
        const data = r.text
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('');
        return JSON.parse(data);
    }
    return JSON.parse(r.text);
}

async function openSession(url, token) {
    const init = await post(url, kInitialize, { token });
    assert.equal(init.status, 200, `initialize answered ${init.status}: ${init.text}`);
    const sessionId = init.headers.get('mcp-session-id');
    assert.ok(sessionId, 'initialize answered without an Mcp-Session-Id');
    const done = await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { token, sessionId });
    assert.equal(done.status, 202, `notifications/initialized answered ${done.status}: ${done.text}`);
    return sessionId;
}

/** The auth-params of a `WWW-Authenticate: Bearer ...` challenge (quoted strings unescaped), plus `scheme`. */
function parseChallenge(header) {
    assert.ok(header, 'no WWW-Authenticate header');
    const m = /^\s*(\S+)\s*(.*)$/s.exec(header);
    const params = { scheme: m[1] };
    const re = /([A-Za-z0-9_!#$%&'*+.^`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*(?:,\s*|$)/gy;
    const rest = m[2];
    let p;
    while (re.lastIndex < rest.length && (p = re.exec(rest)) !== null) {
        params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
    }
    assert.equal(re.lastIndex, rest.length, `could not parse the whole challenge: ${header}`);
    return params;
}

// ---- The SDK client. ------------------------------------------------------------------------------------------------------

async function connectAs(url, token) {
    const transport = new StreamableHTTPClientTransport(url, {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    const client = new Client(kClientInfo);
    await client.connect(transport);
    return client;
}

async function toolNames(client) {
    const { tools } = await client.listTools();
    return tools.map((t) => t.name).sort();
}

function textOf(result) {
    return result.content
        .filter((c) => c.type === 'text')
        .map((c) => c.text)
        .join('\n');
}

const siteArgs = (site) => ({ name: F.siteTool, arguments: { site_name: site } });

/** Wraps a test body so that a failure shows the tail of deputy's stderr. */
function withLog(getServer, body) {
    return async (t) => {
        try {
            await body(t);
        } catch (err) {
            const server = getServer();
            if (server && err && typeof err === 'object') {
                err.message = `${err.message}\n--- deputy dev stderr (tail) ---\n${server.stderr().split('\n').slice(-30).join('\n')}`;
            }
            throw err;
        }
    };
}

// A missing binary is a failure that says what to set, never a skip.
it('deputy is there', () => {
    deputyExecutable();
});

// ---- The seed's promises and the cases it could not handle, through the SDK client. ---------------------------------

describe('deputy dev: the SDK client with the provider’s tokens', () => {
    let server;
    const minted = []; // every token this suite made, to look for in Graph's log
    const clients = [];
    const opt = { timeout: kTestTimeoutMs };
    const test = (name, body) => it(name, opt, withLog(() => server, body));
    const mint = async (user, options) => {
        const token = await mintToken(server, user, options);
        minted.push(token);
        return token;
    };
    const connectUser = async (user, options) => {
        const client = await connectAs(server.url, await mint(user, options));
        clients.push(client);
        return client;
    };

    before(async () => {
        server = await startDev();
    });
    after(async () => {
        for (const client of clients) await client.close().catch(() => {});
        await server?.stop();
    });

    for (const user of Object.keys(F.users)) {
        test(`${user} lists exactly ${JSON.stringify(F.expectedTools[user])}`, async () => {
            const client = await connectUser(user);
            assert.deepEqual(await toolNames(client), F.expectedTools[user]);
        });
    }

    test(`alice is granted ${F.site}; bob is denied it; an unknown site is denied`, async () => {
        const alice = await connectUser('alice');
        const bob = await connectUser('bob');
        const granted = await alice.callTool(siteArgs(F.site));
        assert.equal(textOf(granted), F.granted(F.site), JSON.stringify(granted));
        const denied = await bob.callTool(siteArgs(F.site));
        assert.equal(textOf(denied), F.denied(F.site), JSON.stringify(denied));
        const unknown = await alice.callTool(siteArgs(F.unknownSite));
        assert.equal(textOf(unknown), F.denied(F.unknownSite), JSON.stringify(unknown));
    });

    test(`alice calls ${F.writeTool}; bob is refused it as an unknown tool`, async () => {
        const alice = await connectUser('alice');
        const result = await alice.callTool({ name: F.writeTool, arguments: {} });
        assert.notEqual(result.isError, true, JSON.stringify(result));
        assert.equal(textOf(result), F.writeText);
        const bob = await connectUser('bob');
        await assert.rejects(bob.callTool({ name: F.writeTool, arguments: {} }), (err) => {
            assert.ok(err instanceof McpError, `expected an McpError, got ${err?.constructor?.name}: ${err?.message}`);
            assert.equal(err.code, ErrorCode.InvalidParams);
            assert.match(err.message, new RegExp(`Unknown tool: ${F.writeTool}\\b`));
            return true;
        });
    });

    test('whoami is the caller as Graph sees them', async () => {
        const alice = await connectUser('alice');
        const result = await alice.callTool({ name: F.readTool, arguments: {} });
        assert.notEqual(result.isError, true, JSON.stringify(result));
        assert.match(textOf(result), new RegExp(F.users.alice.name));
    });

    test('carol: the SDK call fails with HTTP 401; the challenge asks for MFA; after the step-up whoami works', async () => {
        const carol = await connectUser('carol');
        await assert.rejects(carol.callTool({ name: F.readTool, arguments: {} }), (err) => {
            assert.ok(err instanceof StreamableHTTPError, `expected a StreamableHTTPError, got ${err?.constructor?.name}: ${err?.message}`);
            assert.equal(err.code, 401);
            return true;
        });

        // The same call raw: the exact challenge.
        const token = await mint('carol');
        const sessionId = await openSession(server.url, token);
        const r = await post(
            server.url,
            { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: F.readTool, arguments: {} } },
            { token, sessionId }
        );
        assert.equal(r.status, 401, `carol's whoami answered ${r.status}: ${r.text}`);
        const header = r.headers.get('www-authenticate');
        const c = parseChallenge(header);
        assert.equal(c.scheme, 'Bearer', header);
        assert.equal(c.error, 'insufficient_claims', header);
        assert.ok(c.error_description, `no error_description: ${header}`);
        assert.equal(c.resource_metadata, `${server.origin}/.well-known/oauth-protected-resource/mcp`, header);
        // The metadata it points at names deputy and the provider that must ask for the claims.
        const prmResponse = await fetch(c.resource_metadata, { signal: AbortSignal.timeout(kFetchTimeoutMs) });
        assert.equal(prmResponse.status, 200);
        const prm = await prmResponse.json();
        assert.equal(prm.resource, server.url.href, JSON.stringify(prm));
        assert.deepEqual(prm.authorization_servers, [`${server.authority}/v2.0`], JSON.stringify(prm));
        assert.ok(c.claims, `no claims: ${header}`);
        assert.match(c.claims, /^[A-Za-z0-9+/]+={0,2}$/, `claims is not base64: ${c.claims}`);
        const claims = JSON.parse(Buffer.from(c.claims, 'base64').toString('utf8'));
        const asked = claims.access_token;
        assert.ok(asked && typeof asked === 'object', `claims have no access_token member: ${JSON.stringify(claims)}`);
        const names = Object.keys(asked);
        assert.ok(
            names.some((n) => ['acrs', 'capolids', 'amr'].includes(n)),
            `the claims ask for none of amr/acrs/capolids: ${JSON.stringify(claims)}`
        );
        if (asked.amr) assert.ok(JSON.stringify(asked.amr).includes('mfa'), JSON.stringify(claims));
        if (asked.capolids) assert.ok(asked.capolids.values?.includes(F.carolPolicyId), JSON.stringify(claims));
        // The body says it too, as a tool error, for clients that read only JSON-RPC.
        const body = messageOf(r);
        assert.equal(body.id, 5);
        assert.equal(body.result?.isError, true, r.text);
        assert.equal(r.text.includes(token), false, "carol's token is in the answer");
        assert.equal(header.includes(token), false, "carol's token is in the challenge");

        // The step-up: a token from a sign-in with MFA.
        const stepped = await connectUser('carol', { mfa: true });
        const result = await stepped.callTool({ name: F.readTool, arguments: {} });
        assert.notEqual(result.isError, true, JSON.stringify(result));
        assert.match(textOf(result), new RegExp(F.users.carol.name));
    });

    test('dave is told consent is missing and where an admin grants it', async () => {
        const dave = await connectUser('dave');
        for (const call of [{ name: F.readTool, arguments: {} }, siteArgs(F.site)]) {
            const result = await dave.callTool(call);
            assert.equal(result.isError, true, JSON.stringify(result));
            const text = textOf(result);
            assert.match(text, /consent/i, text);
            const adminConsent = new RegExp(
                `${server.idpOrigin.replaceAll('.', '\\.')}/${F.tenantId}/v2\\.0/adminconsent\\?client_id=${F.serverId}`
            );
            assert.match(text, adminConsent, text);
        }
    });

    test('50 concurrent first calls of a fresh token through five SDK clients cost the provider one exchange', async () => {
        const token = await mint('alice');
        const pool = [];
        for (let i = 0; i < 5; ++i) {
            const client = await connectAs(server.url, token);
            clients.push(client);
            pool.push(client);
        }
        const issued = async () => (await getJsonWithCa(`${server.idpOrigin}/_dev/stats`, server.ca)).issued.on_behalf_of;
        const before = await issued();
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => pool[i % pool.length].callTool(siteArgs(F.site))));
        for (const result of results) assert.equal(textOf(result), F.granted(F.site), JSON.stringify(result));
        assert.equal((await issued()) - before, 1, 'on-behalf-of exchanges for the burst');
    });

    // Last in this suite: it looks at everything the tests above sent to Graph.
    test("Graph's request log: no MCP token ever reached Graph; every token there is for Graph", async () => {
        const log = await getJsonWithCa(`${server.graphOrigin}/_dev/requests`, server.ca);
        assert.equal(log.dropped, 0);
        // alice's sites (granted, unknown), bob's, alice's and carol's whoami, unless a test above failed early.
        assert.ok(log.requests.length >= 4, `expected Graph to have been called: ${JSON.stringify(log)}`);
        const ours = new Set(minted.map(sha256));
        assert.ok(ours.size >= 10, `the suite minted only ${ours.size} tokens`);
        for (const entry of log.requests) {
            assert.ok(entry.token, `a request without a token reached Graph: ${JSON.stringify(entry)}`);
            assert.ok(!ours.has(entry.token.sha256), `an MCP token reached Graph: ${JSON.stringify(entry)}`);
            assert.equal(entry.token.aud, F.graphAudience, JSON.stringify(entry));
            assert.equal(entry.token.verified, true, JSON.stringify(entry));
        }
    });
});

// ---- The audit trail: exact counts across SIGTERM. ---------------------------------------------------------------------

describe('deputy dev: the audit trail across SIGTERM', () => {
    let server;
    const opt = { timeout: kAuditTestTimeoutMs };
    const kConcurrent = 50;

    before(async () => {
        server = await startDev();
    });
    after(async () => {
        await server?.stop();
    });

    it(
        `every decision of sequential and ${kConcurrent} concurrent calls is on file, once, and no token is`,
        opt,
        withLog(
            () => server,
            async (t) => {
                // What each kind of request leaves in the trail (docs/audit.md).
                const kEffects = {
                    listed: { tools_listed: 1 },
                    graphCall: { tool_called: 1, token_exchanged: 1, downstream_call: 1, tool_result: 1 },
                    localCall: { tool_called: 1, tool_result: 1 },
                    denied: { tool_denied: 1 },
                    exchangeRefused: { tool_called: 1, token_exchanged: 1, tool_result: 1 },
                    badToken: { authn_failed: 1 },
                };
                const expected = {
                    authn_failed: 0,
                    tools_listed: 0,
                    tool_denied: 0,
                    tool_called: 0,
                    token_exchanged: 0,
                    downstream_call: 0,
                    tool_result: 0,
                };
                const did = (kind, times = 1) => {
                    for (const [event, n] of Object.entries(kEffects[kind])) expected[event] += n * times;
                };

                const tokens = {
                    alice: await mintToken(server, 'alice'),
                    bob: await mintToken(server, 'bob'),
                    carol: await mintToken(server, 'carol'),
                    carolMfa: await mintToken(server, 'carol', { mfa: true }),
                    dave: await mintToken(server, 'dave'),
                    expired: await mintToken(server, 'alice', { issuedAgo: 7200 }),
                };
                const [h, p, s] = tokens.alice.split('.');
                tokens.forged = `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;

                const clients = [];
                const connect = async (name) => {
                    const client = await connectAs(server.url, tokens[name]);
                    clients.push(client);
                    return client;
                };
                try {
                    // Sequential: one of every kind.
                    const alice = await connect('alice');
                    const bob = await connect('bob');
                    const carolMfa = await connect('carolMfa');
                    const dave = await connect('dave');
                    for (const client of [alice, bob, carolMfa, dave]) {
                        await client.listTools();
                        did('listed');
                    }
                    assert.equal(textOf(await alice.callTool(siteArgs(F.site))), F.granted(F.site));
                    assert.equal(textOf(await alice.callTool(siteArgs(F.site))), F.granted(F.site));
                    did('graphCall', 2);
                    assert.equal(textOf(await bob.callTool(siteArgs(F.site))), F.denied(F.site));
                    did('graphCall');
                    assert.equal(textOf(await alice.callTool(siteArgs(F.unknownSite))), F.denied(F.unknownSite));
                    did('graphCall');
                    assert.notEqual((await alice.callTool({ name: F.readTool, arguments: {} })).isError, true);
                    did('graphCall');
                    assert.notEqual((await carolMfa.callTool({ name: F.readTool, arguments: {} })).isError, true);
                    did('graphCall');
                    assert.equal(textOf(await alice.callTool({ name: F.writeTool, arguments: {} })), F.writeText);
                    did('localCall');
                    await assert.rejects(bob.callTool({ name: F.writeTool, arguments: {} }), McpError);
                    did('denied');
                    assert.equal((await dave.callTool({ name: F.readTool, arguments: {} })).isError, true);
                    did('exchangeRefused');
                    const carolSession = await openSession(server.url, tokens.carol);
                    const challenged = await post(
                        server.url,
                        { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: F.readTool, arguments: {} } },
                        { token: tokens.carol, sessionId: carolSession }
                    );
                    assert.equal(challenged.status, 401, challenged.text);
                    did('exchangeRefused');
                    for (const bad of [undefined, tokens.forged, tokens.expired]) {
                        const r = await post(server.url, kInitialize, { token: bad });
                        assert.equal(r.status, 401, r.text);
                        did('badToken');
                    }

                    // Concurrent: kConcurrent calls at once through five SDK clients of three users.
                    const pool = [alice, await connect('alice'), bob, await connect('bob'), carolMfa];
                    const calls = [];
                    for (let i = 0; i < kConcurrent; ++i) {
                        const client = pool[i % pool.length];
                        const call = i % 2 === 0 ? siteArgs(F.site) : { name: F.readTool, arguments: {} };
                        calls.push(client.callTool(call));
                        did('graphCall');
                    }
                    const results = await Promise.all(calls);
                    results.forEach((result, i) => {
                        if (i % 2 !== 0) assert.notEqual(result.isError, true, JSON.stringify(result));
                    });
                } finally {
                    for (const client of clients) await client.close().catch(() => {});
                }

                // What the provider issued and what reached Graph, before the process (and its memory) goes.
                const stats = await getJsonWithCa(`${server.idpOrigin}/_dev/stats`, server.ca);
                const graphLog = await getJsonWithCa(`${server.graphOrigin}/_dev/requests`, server.ca);

                const exit = await server.terminate();
                assert.deepEqual(exit, { code: 0, signal: null }, `deputy dev's exit after SIGTERM`);

                // Readable by its owner only (docs/audit.md: created with mode 0600).
                assert.equal(statSync(server.auditFile).mode & 0o777, 0o600, 'the audit file mode');
                const text = readFileSync(server.auditFile, 'utf8');
                assert.ok(text.endsWith('\n'), 'the audit file ends in the middle of a line');
                const records = text
                    .split('\n')
                    .filter((line) => line !== '')
                    .map((line, i) => {
                        try {
                            return JSON.parse(line);
                        } catch (err) {
                            assert.fail(`audit line ${i + 1} is not JSON (${err.message}): ${line}`);
                        }
                    });
                const counts = Object.fromEntries(Object.keys(expected).map((event) => [event, 0]));
                for (const record of records) {
                    assert.ok(record.event in counts, `an unexpected event: ${JSON.stringify(record)}`);
                    counts[record.event] += 1;
                }
                t.diagnostic(`audit records by event: ${JSON.stringify(counts)}`);
                assert.deepEqual(counts, expected, 'records by event');

                for (const [name, token] of Object.entries(tokens)) {
                    assert.equal(text.includes(token), false, `${name}'s token is in the audit file`);
                    // And no recognisable piece of one (its signature, or its payload).
                    for (const part of token.split('.').slice(1)) {
                        if (part.length >= 16) assert.equal(text.includes(part), false, `a part of ${name}'s token is in the audit file`);
                    }
                }
                assert.equal(text.includes('eyJ'), false, 'something JWT-like (eyJ) is in the audit file');
                // Nor an argument's value: the site names appear as arg_names, a digest and {site_name} only.
                for (const value of [F.site, F.unknownSite]) {
                    assert.equal(text.includes(value), false, `the argument value ${value} is in the audit file`);
                }

                // Who: the refusals name their user; the exchange failures are carol's and dave's.
                // One exchange per user token (alice, bob, carol with MFA; carol's and dave's refused), every other
                // call served from the cache; the provider issued exactly those, and Graph saw exactly those tokens.
                const exchanged = records.filter((r) => r.event === 'token_exchanged');
                const misses = exchanged.filter((r) => r.cache === 'miss');
                assert.deepEqual(
                    misses.map((r) => `${r.upn} ${r.outcome}`).sort(),
                    [
                        `${F.users.alice.upn} ok`,
                        `${F.users.bob.upn} ok`,
                        `${F.users.carol.upn} AADSTS50076`,
                        `${F.users.carol.upn} ok`,
                        `${F.users.dave.upn} AADSTS65001`,
                    ],
                    JSON.stringify(misses)
                );
                assert.ok(exchanged.every((r) => r.cache === 'miss' || (r.cache === 'hit' && r.outcome === 'ok')), 'a cache hit that failed');
                assert.equal(stats.issued.on_behalf_of, 3, `on-behalf-of tokens issued: ${JSON.stringify(stats)}`);
                const auditedUtis = new Set(misses.filter((r) => r.outcome === 'ok').map((r) => r.uti));
                const graphUtis = new Set(graphLog.requests.map((r) => r.token?.uti));
                assert.deepEqual([...graphUtis].sort(), [...auditedUtis].sort(), 'the tokens Graph saw vs. the exchanges on file');
                assert.equal(graphLog.requests.length, expected.downstream_call, 'requests Graph saw vs. downstream_call records');

                for (const record of records.filter((r) => r.event === 'tool_denied')) {
                    assert.equal(record.upn, F.users.bob.upn, JSON.stringify(record));
                }
                const failedExchanges = records.filter((r) => r.event === 'token_exchanged' && r.outcome !== 'ok');
                assert.deepEqual(
                    failedExchanges.map((r) => r.upn).sort(),
                    [F.users.carol.upn, F.users.dave.upn],
                    JSON.stringify(failedExchanges)
                );
                const authnFailed = records.filter((r) => r.event === 'authn_failed');
                for (const record of authnFailed) {
                    assert.equal(record.upn, undefined, `an unauthenticated record names a user: ${JSON.stringify(record)}`);
                    assert.equal(record.oid, undefined, `an unauthenticated record names a user: ${JSON.stringify(record)}`);
                }
                assert.ok(
                    authnFailed.some((r) => r.reason === 'missing_token'),
                    `no authn_failed for the request without a token: ${JSON.stringify(authnFailed)}`
                );
            }
        )
    );
});

describe('deputy dev --no-token-cache: one exchange per call', () => {
    let server;
    const opt = { timeout: kTestTimeoutMs };

    before(async () => {
        server = await startDev({ extraArgs: ['--no-token-cache'] });
    });
    after(async () => {
        await server?.stop();
    });

    it(
        'three whoami calls of one token: three exchanges, all misses in the trail',
        opt,
        withLog(
            () => server,
            async () => {
                const client = await connectAs(server.url, await mintToken(server, 'alice'));
                try {
                    for (let i = 0; i < 3; ++i) {
                        const result = await client.callTool({ name: F.readTool, arguments: {} });
                        assert.notEqual(result.isError, true, JSON.stringify(result));
                    }
                } finally {
                    await client.close().catch(() => {});
                }
                const stats = await getJsonWithCa(`${server.idpOrigin}/_dev/stats`, server.ca);
                assert.equal(stats.issued.on_behalf_of, 3, JSON.stringify(stats));
                assert.deepEqual(await server.terminate(), { code: 0, signal: null });
                const exchanged = readFileSync(server.auditFile, 'utf8')
                    .split('\n')
                    .filter((line) => line !== '')
                    .map((line) => JSON.parse(line))
                    .filter((r) => r.event === 'token_exchanged');
                assert.deepEqual(exchanged.map((r) => `${r.cache} ${r.outcome}`), ['miss ok', 'miss ok', 'miss ok']);
            }
        )
    );
});

/** POST `message` over `agent` (node:http); resolves {status, text} or {error} (a reset connection), never rejects. */
function agentPost(agent, url, message, { token, sessionId }) {
    const body = JSON.stringify(message);
    return new Promise((resolvePost) => {
        const req = httpRequest(
            url,
            {
                method: 'POST',
                agent,
                timeout: kFetchTimeoutMs,
                headers: {
                    'Content-Type': 'application/json',
                    Accept: 'application/json, text/event-stream',
                    Authorization: `Bearer ${token}`,
                    'Mcp-Session-Id': sessionId,
                    'MCP-Protocol-Version': kProtocolVersion,
                    'Content-Length': Buffer.byteLength(body),
                },
            },
            (res) => {
                let text = '';
                res.setEncoding('utf8');
                res.on('data', (chunk) => (text += chunk));
                res.on('end', () => resolvePost({ status: res.statusCode, text }));
                res.on('error', (err) => resolvePost({ error: err.code ?? err.message }));
            }
        );
        req.on('error', (err) => resolvePost({ error: err.code ?? err.message }));
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.end(body);
    });
}

describe('deputy dev: SIGTERM while calls are in flight', () => {
    let server;
    const kInFlight = 50;
    const opt = { timeout: kAuditTestTimeoutMs };

    before(async () => {
        server = await startDev();
    });
    after(async () => {
        await server?.stop();
    });

    it(
        `SIGTERM at the first of ${kInFlight} concurrent answers: each call is answered and audited, or neither`,
        opt,
        withLog(
            () => server,
            async (t) => {
                const token = await mintToken(server, 'alice');
                const sessionId = await openSession(server.url, token);
                // kInFlight connections opened beforehand (one tools/list each), so that the calls below are sent
                // on established connections, not left in the listener's backlog when it closes.
                const agent = new HttpAgent({ keepAlive: true, maxSockets: kInFlight });
                try {
                    const warm = await Promise.all(
                        Array.from({ length: kInFlight }, (_, i) =>
                            agentPost(agent, server.url, { jsonrpc: '2.0', id: `warm-${i}`, method: 'tools/list' }, { token, sessionId })
                        )
                    );
                    assert.deepEqual([...new Set(warm.map((r) => r.status))], [200], JSON.stringify(warm.find((r) => r.status !== 200)));

                    let firstAnswer;
                    const answered = new Promise((r) => (firstAnswer = r));
                    const calls = Array.from({ length: kInFlight }, (_, i) => {
                        const call = i % 2 === 0 ? { name: F.siteTool, arguments: { site_name: F.site } } : { name: F.readTool, arguments: {} };
                        const message = { jsonrpc: '2.0', id: `call-${i}`, method: 'tools/call', params: call };
                        return agentPost(agent, server.url, message, { token, sessionId }).then((r) => {
                            firstAnswer();
                            return r;
                        });
                    });
                    await answered;
                    const exitPromise = server.terminate();
                    const results = await Promise.all(calls);
                    const exit = await exitPromise;
                    assert.deepEqual(exit, { code: 0, signal: null }, `deputy dev's exit after SIGTERM`);

                    const ok = new Set();
                    results.forEach((r, i) => {
                        if (r.status === undefined) return; // the connection was closed: never read, never audited
                        assert.equal(r.status, 200, `call-${i} answered ${r.status}: ${r.text}`);
                        ok.add(`call-${i}`);
                    });
                    t.diagnostic(`${ok.size} of ${kInFlight} calls answered before the exit`);
                    const records = readFileSync(server.auditFile, 'utf8')
                        .split('\n')
                        .filter((line) => line !== '')
                        .map((line) => JSON.parse(line))
                        .filter((r) => r.request_id.startsWith('call-'));
                    for (const event of ['tool_called', 'tool_result']) {
                        const ids = records.filter((r) => r.event === event).map((r) => r.request_id).sort();
                        assert.deepEqual(ids, [...ok].sort(), `${event} records vs. answered calls`);
                    }
                } finally {
                    agent.destroy();
                }
            }
        )
    );
});

// ---- The seed's client stack: MSAL Python signs alice in, the SDK client calls deputy. -------------------------------

describe('deputy dev: MSAL Python signs users in through the pages; the SDK client uses their tokens', () => {
    let server;
    const opt = { timeout: kTestTimeoutMs + kSignInTimeoutMs };
    const test = (name, body) => it(name, opt, withLog(() => server, body));

    before(async () => {
        server = await startDev();
    });
    after(async () => {
        await server?.stop();
    });

    /** MSAL Python (msal_sign_in.py) signs `user` in through the provider's pages: the access token for deputy and its claims. */
    const signIn = async (user, { claims, otp } = {}) => {
        const helper = join(kHere, 'msal_sign_in.py');
        const env = { ...scrubbedEnv(), REQUESTS_CA_BUNDLE: server.ca };
        const options = [...(claims ? ['--claims', claims] : []), ...(otp ? ['--otp', otp] : [])];
        const { upn, password } = F.users[user];
        let stdout;
        try {
            ({ stdout } = await execFileAsync(
                '/usr/bin/python3',
                [helper, ...options, server.authority, F.clientId, F.clientSecret, F.redirectUri, F.scopeUri, upn, password],
                { env, timeout: kSignInTimeoutMs }
            ));
        } catch (err) {
            assert.fail(`msal_sign_in.py for ${user} failed (${err.code ?? err.signal}): ${err.stderr}`);
        }
        const token = stdout.trim();
        assert.match(token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/, 'the helper printed no JWT');
        return { token, claims: JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) };
    };

    test('alice signs in with MSAL (auth code flow, PKCE) and is granted test-site through the SDK client', async () => {
        const { token, claims } = await signIn('alice');
        assert.equal(claims.aud, F.serverId, JSON.stringify(claims));
        assert.equal(claims.azp, F.clientId, JSON.stringify(claims));
        assert.equal(claims.scp, 'access_as_user', JSON.stringify(claims));
        assert.equal(claims.preferred_username, F.users.alice.upn, JSON.stringify(claims));

        const client = await connectAs(server.url, token);
        try {
            assert.deepEqual(await toolNames(client), F.expectedTools.alice);
            const result = await client.callTool(siteArgs(F.site));
            assert.equal(textOf(result), F.granted(F.site), JSON.stringify(result));
            const me = await client.callTool({ name: F.readTool, arguments: {} });
            assert.match(textOf(me), new RegExp(F.users.alice.name));
        } finally {
            await client.close().catch(() => {});
        }
    });

    test("carol signs in with MSAL, gets deputy's claims challenge, steps up through the MFA page, and whoami works", async () => {
        const first = await signIn('carol');
        assert.equal((first.claims.amr ?? []).includes('mfa'), false, JSON.stringify(first.claims));
        const client = await connectAs(server.url, first.token);
        try {
            await assert.rejects(client.callTool({ name: F.readTool, arguments: {} }), (err) => {
                assert.ok(err instanceof StreamableHTTPError, `${err?.constructor?.name}: ${err?.message}`);
                assert.equal(err.code, 401);
                return true;
            });
        } finally {
            await client.close().catch(() => {});
        }
        // What a client does with the challenge: its claims go back to the identity provider with the sign-in.
        const sessionId = await openSession(server.url, first.token);
        const r = await post(
            server.url,
            { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: F.readTool, arguments: {} } },
            { token: first.token, sessionId }
        );
        assert.equal(r.status, 401, r.text);
        const challenge = parseChallenge(r.headers.get('www-authenticate'));
        assert.equal(challenge.error, 'insufficient_claims');

        const stepped = await signIn('carol', { claims: challenge.claims, otp: kDevOtp });
        assert.ok((stepped.claims.amr ?? []).includes('mfa'), `no mfa in amr after the step-up: ${JSON.stringify(stepped.claims)}`);
        const after = await connectAs(server.url, stepped.token);
        try {
            const me = await after.callTool({ name: F.readTool, arguments: {} });
            assert.notEqual(me.isError, true, JSON.stringify(me));
            assert.match(textOf(me), new RegExp(F.users.carol.name));
        } finally {
            await after.close().catch(() => {});
        }
    });
});
