// Real msal-node (@azure/msal-node, unchanged) against deputy's development identity provider (`deputy idp`), the
// Node.js twin of msal_idp_test.py: what a Node middle tier or web app would do against Entra ID, done against
// the look-alike, with nothing patched in MSAL (its own fetch-based HTTP client, its own cache, its own checks of
// state, nonce and id token).
//
//   DEPUTY=/path/to/deputy node --test --test-reporter=spec msal_node_idp.test.mjs
//   (without DEPUTY: $DEPUTY_BUILD_DIR/deputy, then ../../build/release/deputy)
//
// Two processes, because Node reads NODE_EXTRA_CA_CERTS only when it starts and the provider makes its CA when
// it starts: this file first runs as the *launcher* (no DEPUTY_IDP_URL in the environment), which starts
// `deputy idp --port 0 --graph-port 0 --state <tmp>` and runs this same file again in a child `node --test`
// with NODE_EXTRA_CA_CERTS=<tmp>/ca.pem and DEPUTY_IDP_URL/DEPUTY_IDP_STATE set; the child is the *suite*. To
// run the suite against a provider already running: set those three variables yourself.
//
// MSAL is told about the non-Microsoft authority with knownAuthorities (host:port): it then skips instance
// discovery at login.microsoftonline.com and reads <authority>/v2.0/.well-known/openid-configuration. The
// sign-in pages are driven with fetch and a cookie jar as a browser would post them (docs/devidp-sign-in.md);
// the redirect to the client (localhost:8100) is never followed, its query is what MSAL's acquireTokenByCode
// gets. Assertions compare tokens without printing them (a failure shows names and claims, never a token).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
    ConfidentialClientApplication,
    CryptoProvider,
    InteractionRequiredAuthError,
    ServerError,
} from '@azure/msal-node';
import * as jose from 'jose';

const kHere = dirname(fileURLToPath(import.meta.url));
const kThisFile = fileURLToPath(import.meta.url);
const kRoot = resolve(kHere, '..', '..');

// ---- The directory (examples/dev-directory.yaml, built into deputy as the default). Adjust here when it moves. ----
const D = {
    tenantId: 'b22dd19b-fad0-4513-a43e-46a8cb3ca698',
    server: { id: 'd894da85-e1f8-4202-b8d8-bbfc24cbe604', secret: 'dev-server-secret-not-for-production' },
    client: { id: '37d1e7dc-e348-4df1-80dc-69156bdc1273', secret: 'dev-client-secret-not-for-production' },
    redirectUri: 'http://localhost:8100/auth/callback',
    users: {
        alice: {
            upn: 'alice@deputy-dev.test',
            password: 'dev-password-alice',
            oid: 'b4822fd4-5a21-4902-90ad-7430c1db4dd9',
            roles: ['Task.All'],
        },
        carol: {
            upn: 'carol@deputy-dev.test',
            password: 'dev-password-carol',
            oid: '94ddda93-3740-43dc-900d-fc0ba6d2fd58',
            roles: ['Task.Write'],
        },
        dave: {
            upn: 'dave@deputy-dev.test',
            password: 'dev-password-dave',
            oid: '5f0c3a8e-2b6d-4c1e-9a47-0d3e8b6f21c4',
            roles: ['Task.Read'],
        },
    },
    mfaCode: '000000', // the directory's default mfa_code (docs/devidp-sign-in.md)
    graph: 'https://graph.microsoft.com',
    get apiScope() {
        return `api://${this.server.id}/access_as_user`;
    },
    get graphDefault() {
        return [`${this.graph}/.default`];
    },
};

// The provider makes its CA, signing keys and the server app's certificate at its first start (RSA keys: ~2 s).
const kIdpReadyTimeoutMs = 30_000;
const kIdpStopGraceMs = 5_000;
// The whole suite in the child: about forty requests to a loopback server.
const kSuiteTimeoutMs = 150_000;
const kFetchTimeoutMs = 10_000;
// A page flow is at most sign-in, MFA, consent; more pages than this means the provider loops.
const kMaxPages = 6;

const inSuite = Boolean(process.env.DEPUTY_IDP_URL);

if (!inSuite) {
    launcher();
} else {
    suite();
}

// ============================================ launcher ============================================================

function deputyPath() {
    const explicit = process.env.DEPUTY;
    const candidates = explicit
        ? [explicit]
        : [
              ...(process.env.DEPUTY_BUILD_DIR ? [join(process.env.DEPUTY_BUILD_DIR, 'deputy')] : []),
              join(kRoot, 'build', 'release', 'deputy'),
          ];
    const found = candidates.find((path) => existsSync(path));
    if (!found) {
        throw new Error(`deputy not found (tried ${candidates.join(', ')}): build it, or set DEPUTY=/path/to/deputy`);
    }
    return found;
}

/** Starts `deputy idp` on ephemeral ports; resolves to {url, graph, state, stop()} once it prints its ready line. */
async function startIdp(state) {
    const child = spawn(deputyPath(), ['idp', '--port', '0', '--graph-port', '0', '--state', state], {
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
    const ready = await new Promise((resolveReady, rejectReady) => {
        let graph = null;
        let buffered = '';
        const timer = setTimeout(() => rejectReady(new Error(`deputy idp did not start in time:\n${output}`)),
            kIdpReadyTimeoutMs);
        child.stderr.on('data', (chunk) => {
            output += chunk;
        });
        child.stdout.on('data', (chunk) => {
            output += chunk;
            buffered += chunk;
            let newline;
            while ((newline = buffered.indexOf('\n')) >= 0) {
                const line = buffered.slice(0, newline);
                buffered = buffered.slice(newline + 1);
                const graphLine = /^graph on (https:\/\/\S+?)\/?$/.exec(line);
                if (graphLine) graph = graphLine[1];
                const listening = /^listening on (https:\/\/127\.0\.0\.1:\d+)\/?$/.exec(line);
                if (listening) {
                    clearTimeout(timer);
                    resolveReady({ url: listening[1], graph });
                }
            }
        });
        exited.then(({ code, signal }) => {
            clearTimeout(timer);
            rejectReady(new Error(`deputy idp exited (${code ?? signal}) before listening:\n${output}`));
        });
    });
    return {
        ...ready,
        state,
        output: () => output,
        async stop() {
            if (child.exitCode !== null || child.signalCode !== null) return;
            child.kill('SIGTERM');
            let timer;
            const grace = new Promise((resolveGrace) => {
                timer = setTimeout(resolveGrace, kIdpStopGraceMs, 'timeout');
            });
            if ((await Promise.race([exited, grace])) === 'timeout') {
                child.kill('SIGKILL');
                await exited;
            }
            clearTimeout(timer);
        },
    };
}

function launcher() {
    describe('msal-node against deputy idp', () => {
        let state;
        let idp;

        before(async () => {
            state = mkdtempSync(join(tmpdir(), 'deputy-msal-node-'));
            idp = await startIdp(state);
        });

        after(async () => {
            await idp?.stop();
            if (state) rmSync(state, { recursive: true, force: true });
        });

        const name = 'runs the suite in a node that trusts the provider\'s CA (NODE_EXTRA_CA_CERTS)';
        it(name, { timeout: kSuiteTimeoutMs + 10_000 }, async () => {
            const ca = join(state, 'ca.pem');
            assert.ok(existsSync(ca), `deputy idp made no CA at ${ca}`);
            const env = {
                ...process.env,
                NODE_EXTRA_CA_CERTS: ca,
                DEPUTY_IDP_URL: idp.url,
                DEPUTY_IDP_STATE: state,
                NO_PROXY: '127.0.0.1,localhost',
                no_proxy: '127.0.0.1,localhost',
            };
            // The child is a test runner of its own, not a worker of ours.
            delete env.NODE_TEST_CONTEXT;
            const child = spawn(process.execPath, ['--test', '--test-reporter=spec', kThisFile], {
                env,
                stdio: ['ignore', 'pipe', 'pipe'],
            });
            let output = '';
            const relay = (chunk) => {
                output += chunk;
                process.stderr.write(chunk);
            };
            child.stdout.on('data', relay);
            child.stderr.on('data', relay);
            let timer;
            const result = await new Promise((resolveRun) => {
                timer = setTimeout(() => {
                    child.kill('SIGKILL');
                    resolveRun({ code: null, signal: 'timeout' });
                }, kSuiteTimeoutMs);
                child.once('exit', (code, signal) => resolveRun({ code, signal }));
            });
            clearTimeout(timer);
            assert.equal(result.code, 0,
                `the msal-node suite failed (${result.code ?? result.signal}); its output is above. ` +
                    `deputy idp said:\n${idp.output()}`);
            // Exit 0 with no test run is no pass: the spec reporter's summary must count them, none failed.
            const count = (label) => Number(new RegExp(`ℹ ${label} (\\d+)`).exec(output)?.[1] ?? NaN);
            assert.ok(count('pass') > 0, 'the suite passed no test');
            assert.equal(count('fail'), 0);
            assert.equal(count('cancelled'), 0);
        });
    });
}

// ============================================ suite ===============================================================

function suite() {
    const idpUrl = process.env.DEPUTY_IDP_URL.replace(/\/$/, '');
    const state = process.env.DEPUTY_IDP_STATE;
    const authority = `${idpUrl}/${D.tenantId}`;
    const host = new URL(idpUrl).host;
    const crypto = new CryptoProvider();

    /** A ConfidentialClientApplication for this provider: knownAuthorities keeps MSAL off Microsoft's discovery. */
    function app(clientId, credential) {
        return new ConfidentialClientApplication({
            auth: { clientId, authority, knownAuthorities: [host], ...credential },
        });
    }

    function claimsOf(jwt) {
        return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
    }

    async function stats() {
        const answer = await fetch(`${idpUrl}/_dev/stats`, { signal: AbortSignal.timeout(kFetchTimeoutMs) });
        assert.equal(answer.status, 200);
        return answer.json();
    }

    /** The server app's generated certificate and key, where deputy idp keeps them (state_dir.cpp: apps/<id>.pem). */
    function certificateCredential() {
        const base = join(state, 'apps', D.server.id);
        const certificate = new X509Certificate(readFileSync(`${base}.pem`));
        const strip = (fingerprint) => fingerprint.replaceAll(':', '').toLowerCase();
        return {
            privateKey: readFileSync(`${base}-key.pem`, 'utf8'),
            thumbprintSha256: strip(certificate.fingerprint256),
            thumbprint: strip(certificate.fingerprint),
        };
    }

    /** What a test asserts of an MSAL failure: the class, the OAuth error, the AADSTS number, the claims. */
    async function failure(promise) {
        try {
            const result = await promise;
            return { result };
        } catch (error) {
            return {
                error,
                code: error.errorCode,
                number: error.errorNo === undefined ? undefined : String(error.errorNo),
                subError: error.subError,
                claims: error.claims,
                message: error.errorMessage ?? error.message,
            };
        }
    }

    // ---- A browser: cookie jar, the pages' forms posted, redirects to the client never followed ----------------

    function decodeEntities(text) {
        return text
            .replaceAll('&quot;', '"')
            .replaceAll('&#39;', "'")
            .replaceAll('&lt;', '<')
            .replaceAll('&gt;', '>')
            .replaceAll('&amp;', '&');
    }

    function attribute(tag, name) {
        const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
        return match ? decodeEntities(match[1]) : undefined;
    }

    /** One of the provider's pages as a browser sees it: the form's action, its hidden fields, the element ids. */
    function parsePage(html) {
        const form = /<form\b[^>]*>/.exec(html);
        const fields = {};
        for (const [input] of html.matchAll(/<input\b[^>]*>/g)) {
            if (attribute(input, 'type') === 'hidden' && attribute(input, 'name')) {
                fields[attribute(input, 'name')] = attribute(input, 'value') ?? '';
            }
        }
        const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]));
        return { action: form ? attribute(form[0], 'action') : undefined, fields, ids, html };
    }

    class Browser {
        #cookies = new Map();

        #remember(answer) {
            for (const line of answer.headers.getSetCookie()) {
                const [pair, ...attributes] = line.split(';');
                const equals = pair.indexOf('=');
                const name = pair.slice(0, equals).trim();
                const expired = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
                if (expired) this.#cookies.delete(name);
                else this.#cookies.set(name, pair.slice(equals + 1).trim());
            }
        }

        async #request(url, init = {}) {
            const headers = { ...(init.headers ?? {}) };
            if (this.#cookies.size > 0) {
                headers.cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
            }
            const answer = await fetch(url, {
                ...init,
                headers,
                redirect: 'manual',
                signal: AbortSignal.timeout(kFetchTimeoutMs),
            });
            this.#remember(answer);
            return { status: answer.status, location: answer.headers.get('location'), text: await answer.text() };
        }

        open(url) {
            return this.#request(url);
        }

        submit(page, fields) {
            const parsed = parsePage(page.text);
            assert.ok(parsed.action, `a page without a form (${page.status}): ${page.text.slice(0, 300)}`);
            return this.#request(parsed.action, {
                method: 'POST',
                body: new URLSearchParams({ ...parsed.fields, ...fields }),
            });
        }
    }

    function shows(page, id) {
        return page.status === 200 && parsePage(page.text).ids.has(id);
    }

    /** The redirect to the client: its query as MSAL's AuthorizationCodePayload wants it. */
    function redirectParams(answer) {
        assert.equal(answer.status, 302,
            `expected the redirect to the client, got ${answer.status}: ${answer.text.slice(0, 300)}`);
        assert.ok(answer.location?.startsWith(`${D.redirectUri}?`), `redirected to ${answer.location}`);
        return Object.fromEntries(new URL(answer.location).searchParams);
    }

    /**
     * A web app's sign-in with MSAL: getAuthCodeUrl with PKCE (MSAL's CryptoProvider), state and nonce; the pages
     * answered by `answerPage` (page -> fields to post) until the provider redirects; acquireTokenByCode.
     */
    async function signInWithCode(web, browser, answerPage, extra = {}) {
        const pkce = await crypto.generatePkceCodes();
        const stateValue = crypto.createNewGuid();
        const nonce = crypto.createNewGuid();
        const url = await web.getAuthCodeUrl({
            scopes: [D.apiScope],
            redirectUri: D.redirectUri,
            codeChallenge: pkce.challenge,
            codeChallengeMethod: 'S256',
            state: stateValue,
            nonce,
            ...extra,
        });
        let page = await browser.open(url);
        const pages = [];
        for (let i = 0; page.status === 200 && i < kMaxPages; ++i) {
            pages.push(page);
            page = await browser.submit(page, answerPage(page, i));
        }
        const params = redirectParams(page);
        assert.ok(params.code, `no code in the redirect: ${JSON.stringify(params)}`);
        const result = await web.acquireTokenByCode(
            {
                code: params.code,
                scopes: [D.apiScope],
                redirectUri: D.redirectUri,
                codeVerifier: pkce.verifier,
                state: stateValue,
                nonce,
                ...(extra.claims ? { claims: extra.claims } : {}),
            },
            params
        );
        return { url, params, result, pages, nonce, state: stateValue };
    }

    const password = (user) => (page) => {
        assert.ok(shows(page, 'password'), `expected the sign-in page: ${page.text.slice(0, 300)}`);
        return { username: user.upn, password: user.password };
    };

    // ---- The suite ----------------------------------------------------------------------------------------------

    describe('msal-node against deputy idp', { timeout: kSuiteTimeoutMs }, () => {
        const server = app(D.server.id, { clientSecret: D.server.secret });
        const web = app(D.client.id, { clientSecret: D.client.secret });
        let alice; // acquireTokenByCode's result for alice
        let aliceGraph; // the server's On-Behalf-Of result for alice's token (Graph, .default)

        it('client credentials (client app, secret) for the server API\'s .default: an app-only v2 token', async () => {
            const client = app(D.client.id, { clientSecret: D.client.secret });
            const result = await client.acquireTokenByClientCredential({ scopes: [`api://${D.server.id}/.default`] });
            assert.ok(result?.accessToken);
            assert.equal(result.tokenType, 'Bearer');
            const c = claimsOf(result.accessToken);
            assert.equal(c.aud, D.server.id);
            assert.equal(c.iss, `${authority}/v2.0`);
            assert.equal(c.azp, D.client.id);
            assert.equal(c.tid, D.tenantId);
            assert.equal(c.idtyp, 'app');
            assert.equal(c.ver, '2.0');
            assert.deepEqual(c.roles, ['Task.Read']);
            assert.equal(c.scp, undefined);
            assert.equal(result.account, null);

            const again = await client.acquireTokenByClientCredential({ scopes: [`api://${D.server.id}/.default`] });
            assert.ok(again.accessToken === result.accessToken, 'MSAL serves the app token from its cache');
            assert.equal(again.fromCache, true);
        });

        it('auth code with PKCE for alice: getAuthCodeUrl, the sign-in page, acquireTokenByCode', async () => {
            const before = await stats();
            const flow = await signInWithCode(web, new Browser(), password(D.users.alice), {
                loginHint: D.users.alice.upn,
            });
            const query = new URL(flow.url).searchParams;
            assert.equal(new URL(flow.url).origin + new URL(flow.url).pathname, `${authority}/oauth2/v2.0/authorize`);
            assert.equal(query.get('code_challenge_method'), 'S256');
            assert.match(query.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
            assert.equal(query.get('state'), flow.state);
            assert.equal(query.get('nonce'), flow.nonce);
            assert.equal(query.get('response_type'), 'code');
            assert.deepEqual(query.get('scope').split(' ').sort(),
                [D.apiScope, 'offline_access', 'openid', 'profile'].sort());
            assert.equal(flow.pages.length, 1, 'one page: the password');
            assert.equal(flow.params.state, flow.state);
            assert.ok(flow.params.client_info, 'the redirect carries client_info');

            alice = flow.result;
            // Signed by a key the provider publishes (its discovery's jwks_uri), as a resource server checks it.
            const discovery = await (await fetch(`${authority}/v2.0/.well-known/openid-configuration`, {
                signal: AbortSignal.timeout(kFetchTimeoutMs),
            })).json();
            const keys = jose.createRemoteJWKSet(new URL(discovery.jwks_uri));
            await jose.jwtVerify(alice.accessToken, keys, { issuer: `${authority}/v2.0`, audience: D.server.id });
            await jose.jwtVerify(alice.idToken, keys, { issuer: `${authority}/v2.0`, audience: D.client.id });
            const c = claimsOf(alice.accessToken);
            assert.equal(c.aud, D.server.id);
            assert.equal(c.iss, `${authority}/v2.0`);
            assert.equal(c.azp, D.client.id);
            assert.equal(c.scp, 'access_as_user');
            assert.deepEqual(c.roles, D.users.alice.roles);
            assert.equal(c.tid, D.tenantId);
            assert.equal(c.oid, D.users.alice.oid);
            assert.equal(c.ver, '2.0');
            assert.equal(c.preferred_username, D.users.alice.upn);
            assert.deepEqual(c.amr, ['pwd']);
            assert.deepEqual(alice.scopes, [D.apiScope]);

            // The id token passed MSAL's own checks (nonce among them); what it says:
            const id = alice.idTokenClaims;
            assert.equal(id.aud, D.client.id);
            assert.equal(id.iss, `${authority}/v2.0`);
            assert.equal(id.nonce, flow.nonce);
            assert.equal(id.oid, D.users.alice.oid);
            assert.equal(id.tid, D.tenantId);
            assert.equal(id.preferred_username, D.users.alice.upn);
            assert.equal(id.ver, '2.0');

            // The account MSAL built from client_info and the id token.
            assert.equal(alice.account.username, D.users.alice.upn);
            assert.equal(alice.account.homeAccountId, `${D.users.alice.oid}.${D.tenantId}`);
            assert.equal(alice.account.localAccountId, D.users.alice.oid);
            assert.equal(alice.account.tenantId, D.tenantId);
            assert.equal(alice.account.environment, host);
            const accounts = await web.getTokenCache().getAllAccounts();
            assert.deepEqual(accounts.map((a) => a.username), [D.users.alice.upn]);

            const after = await stats();
            assert.equal(after.issued.authorization_code, before.issued.authorization_code + 1);
        });

        it('acquireTokenSilent: from MSAL\'s cache, then forceRefresh through the refresh_token grant', async () => {
            assert.ok(alice, 'needs alice\'s sign-in');
            const [account] = await web.getTokenCache().getAllAccounts();
            const cached = await web.acquireTokenSilent({ account, scopes: [D.apiScope] });
            assert.ok(cached.accessToken === alice.accessToken, 'the cached token');
            assert.equal(cached.fromCache, true);

            const before = await stats();
            const refreshed = await web.acquireTokenSilent({ account, scopes: [D.apiScope], forceRefresh: true });
            assert.ok(refreshed.accessToken !== alice.accessToken, 'a new token');
            assert.equal(refreshed.fromCache, false);
            const c = claimsOf(refreshed.accessToken);
            assert.equal(c.aud, D.server.id);
            assert.equal(c.oid, D.users.alice.oid);
            assert.equal(c.scp, 'access_as_user');
            assert.deepEqual(c.roles, D.users.alice.roles);
            assert.equal(refreshed.account.homeAccountId, alice.account.homeAccountId);
            const after = await stats();
            assert.equal(after.issued.refresh_token, before.issued.refresh_token + 1, 'one refresh_token grant');

            // MSAL kept the rotated refresh token: a second forced refresh works as well.
            const twice = await web.acquireTokenSilent({ account, scopes: [D.apiScope], forceRefresh: true });
            assert.ok(twice.accessToken !== refreshed.accessToken, 'a new token again');
            assert.equal((await stats()).issued.refresh_token, before.issued.refresh_token + 2);
        });

        it('On-Behalf-Of with the server app\'s secret: alice\'s token for a v1 Graph token', async () => {
            assert.ok(alice, 'needs alice\'s sign-in');
            const result = await server.acquireTokenOnBehalfOf({
                oboAssertion: alice.accessToken,
                scopes: D.graphDefault,
            });
            assert.equal(result.fromCache, false);
            aliceGraph = result;
            const c = claimsOf(result.accessToken);
            assert.equal(c.aud, D.graph);
            assert.equal(c.iss, `https://sts.windows.net/${D.tenantId}/`);
            assert.equal(c.ver, '1.0');
            assert.equal(c.appid, D.server.id);
            assert.equal(c.appidacr, '1');
            assert.equal(c.upn, D.users.alice.upn);
            assert.equal(c.oid, D.users.alice.oid);
            assert.ok(c.scp.split(' ').includes('Sites.Read.All'), c.scp);
            assert.deepEqual(c.scp.split(' ').sort(), ['Sites.Read.All', 'User.Read']);
            assert.deepEqual([...result.scopes].sort(),
                [`${D.graph}/.default`, `${D.graph}/Sites.Read.All`, `${D.graph}/User.Read`]);
            // The account MSAL built from the answer's id_token (for the middle tier) and client_info.
            assert.equal(result.account?.username, D.users.alice.upn);
            assert.equal(result.account.homeAccountId, `${D.users.alice.oid}.${D.tenantId}`);
            assert.equal(result.idTokenClaims.aud, D.server.id);

        });

        it('On-Behalf-Of again, same assertion, a scope the first token covers: from MSAL\'s cache', async () => {
            assert.ok(aliceGraph, 'needs alice\'s On-Behalf-Of');
            // MSAL cached the Graph token under the answer's scope (Sites.Read.All User.Read) and alice's assertion.
            const before = await stats();
            const again = await server.acquireTokenOnBehalfOf({
                oboAssertion: alice.accessToken,
                scopes: [`${D.graph}/User.Read`],
            });
            assert.ok(again.accessToken === aliceGraph.accessToken, 'the cached token');
            assert.equal(again.fromCache, true);
            assert.equal((await stats()).issued.on_behalf_of, before.issued.on_behalf_of, 'no request to the provider');
        });

        // Entra answers a `<resource>/.default` request with the granted scopes *and* `<resource>/.default` in the
        // response's `scope` (e.g. "https://management.core.windows.net//user_impersonation
        // https://management.core.windows.net//.default"); MSAL caches the token under that scope string and finds
        // it again for the next .default request. deputy idp does the same.
        it('On-Behalf-Of for .default twice: the second answer comes from MSAL\'s cache', async () => {
            assert.ok(alice, 'needs alice\'s sign-in');
            const first = await server.acquireTokenOnBehalfOf({
                oboAssertion: alice.accessToken,
                scopes: D.graphDefault,
            });
            assert.ok(first.scopes.includes(`${D.graph}/.default`), `scope answered: ${first.scopes.join(' ')}`);
            const again = await server.acquireTokenOnBehalfOf({
                oboAssertion: alice.accessToken,
                scopes: D.graphDefault,
            });
            assert.equal(again.fromCache, true);
        });

        it('On-Behalf-Of with the server app\'s certificate (SHA-256 and SHA-1 thumbprints): appidacr 2', async () => {
            assert.ok(alice, 'needs alice\'s sign-in');
            const { privateKey, thumbprintSha256, thumbprint } = certificateCredential();
            for (const clientCertificate of [{ privateKey, thumbprintSha256 }, { privateKey, thumbprint }]) {
                const byCertificate = app(D.server.id, { clientCertificate });
                const result = await byCertificate.acquireTokenOnBehalfOf({
                    oboAssertion: alice.accessToken,
                    scopes: D.graphDefault,
                });
                const c = claimsOf(result.accessToken);
                assert.equal(c.aud, D.graph);
                assert.equal(c.appid, D.server.id);
                assert.equal(c.appidacr, '2', `certificate ${Object.keys(clientCertificate)[1]}`);
                assert.equal(c.upn, D.users.alice.upn);
                assert.ok(c.scp.split(' ').includes('Sites.Read.All'));
            }
        });

        it('carol: OBO gets a claims challenge (AADSTS50076); after the MFA page, the OBO passes', async () => {
            const carol = new Browser();
            const first = await signInWithCode(web, carol, password(D.users.carol));
            assert.deepEqual(claimsOf(first.result.accessToken).amr, ['pwd']);

            const challenge = await failure(
                server.acquireTokenOnBehalfOf({ oboAssertion: first.result.accessToken, scopes: D.graphDefault })
            );
            assert.ok(challenge.error instanceof InteractionRequiredAuthError,
                `expected InteractionRequiredAuthError, got ${challenge.error?.name}: ${challenge.message}`);
            assert.equal(challenge.code, 'interaction_required');
            assert.equal(challenge.number, '50076');
            assert.match(challenge.message, /AADSTS50076/);
            assert.ok(challenge.claims, 'the error carries the claims challenge');
            const claims = JSON.parse(challenge.claims);
            assert.equal(claims.access_token?.capolids?.essential, true, challenge.claims);

            // Back to /authorize with the claims, in the same browser: the MFA page, no password.
            const second = await signInWithCode(web, carol, (page, i) => {
                assert.equal(i, 0, 'one page: the MFA code');
                assert.ok(shows(page, 'otp') && !shows(page, 'password'), page.text.slice(0, 300));
                return { otp: D.mfaCode };
            }, { claims: challenge.claims });
            assert.match(new URL(second.url).searchParams.get('claims') ?? '', /capolids/);
            const c = claimsOf(second.result.accessToken);
            assert.equal(c.oid, D.users.carol.oid);
            assert.deepEqual(c.amr, ['pwd', 'mfa']);

            const chained = await server.acquireTokenOnBehalfOf({
                oboAssertion: second.result.accessToken,
                scopes: D.graphDefault,
            });
            const g = claimsOf(chained.accessToken);
            assert.equal(g.aud, D.graph);
            assert.equal(g.upn, D.users.carol.upn);
        });

        it('dave, who never consented to Graph: OBO refused with AADSTS65001 consent_required', async () => {
            const dave = await signInWithCode(web, new Browser(), password(D.users.dave));
            assert.equal(claimsOf(dave.result.accessToken).oid, D.users.dave.oid);
            const refusal = await failure(
                server.acquireTokenOnBehalfOf({ oboAssertion: dave.result.accessToken, scopes: D.graphDefault })
            );
            assert.ok(refusal.error, 'the OBO must fail');
            // suberror consent_required makes MSAL raise InteractionRequiredAuthError rather than ServerError.
            assert.ok(refusal.error instanceof InteractionRequiredAuthError || refusal.error instanceof ServerError,
                refusal.error.name);
            assert.equal(refusal.code, 'invalid_grant');
            assert.equal(refusal.number, '65001');
            assert.equal(refusal.subError, 'consent_required');
            assert.match(refusal.message, /AADSTS65001/);
        });

        it('a forged assertion (alice\'s token, one signature byte flipped): invalid_grant', async () => {
            assert.ok(alice, 'needs alice\'s sign-in');
            const [head, payload, signature] = alice.accessToken.split('.');
            const bytes = Buffer.from(signature, 'base64url');
            bytes[bytes.length >> 1] ^= 0x01;
            const forged = `${head}.${payload}.${bytes.toString('base64url')}`;
            assert.ok(forged !== alice.accessToken, 'the signature changed');
            const refusal = await failure(
                server.acquireTokenOnBehalfOf({ oboAssertion: forged, scopes: D.graphDefault })
            );
            assert.ok(refusal.error instanceof ServerError, `expected ServerError, got ${refusal.error?.name}`);
            assert.equal(refusal.code, 'invalid_grant');
            assert.equal(refusal.number, '50013');
            assert.match(refusal.message, /AADSTS50013/);
        });
    });
}
