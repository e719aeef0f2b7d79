// `deputy login`'s browser path end to end: a real browser (Debian's Chromium, driven by playwright-core) opens
// the authorize URL `deputy login` hands to $BROWSER, goes through the development identity provider's pages as
// alice, and comes back to the redirect URI on which `deputy login` listens; then `deputy tools` lists alice's
// tools with the cached token. A wrong password and a denied consent end with clear messages.
//
//   DEPUTY_BUILD_DIR=/path/to/build node --test browser-login.test.mjs
//
// One `deputy dev --port 0 --idp-port 0 --graph-port 0 --state <tmp>` serves every case; each case gets a fresh
// browser context (no provider cookies) and its own token cache. The redirect URI is the directory's registered
// http://localhost:8100/auth/callback, a fixed port: the cases run one after the other, and a busy port 8100
// fails the suite at once with a message saying so (ctest: RESOURCE_LOCK port_8100).
// The provider's TLS is trusted by pinning its certificate's public key (--ignore-certificate-errors-spki-list),
// not by ignoring certificate errors; `deputy` trusts <tmp>/ca.pem (DEPUTY_CA_FILE).
// The page ids are docs/devidp-sign-in.md's: #username, #password, #submit, #accept, #cancel.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { chromium } from 'playwright-core';

// ---- Fixtures (examples/dev-directory.yaml, deputy's seed tools, the provider's pages). ------------------------------
const F = {
    redirectUri: 'http://localhost:8100/auth/callback',
    redirectPort: 8100,
    alice: { upn: 'alice@deputy-dev.test', password: 'dev-password-alice', name: 'Alice Adams' },
    aliceTools: ['check_sharepoint_site_access', 'test_write_tool', 'whoami'],
    wrongPassword: 'Your account or password is incorrect. (AADSTS50126)',
};

const kChromium = '/usr/bin/chromium';
const kChromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'];
// Each case: a browser's page loads in well under a second; deputy's sign-in in milliseconds.
const kCaseTimeoutMs = 60_000;
const kReadyTimeoutMs = 15_000;
const kBrowserUrlTimeoutMs = 10_000;
const kPageTimeoutMs = 15_000;
const kCommandTimeoutMs = 30_000;
// `deputy login --timeout` in the wrong-password case: the browser never comes back, the listener gives up.
const kLoginGiveUpSeconds = 5;
const kStopGraceMs = 5_000;
const kPollMs = 50;
const kStderrKeepBytes = 64 * 1024;
// The caller's client settings must not leak into `deputy`'s (docs/client.md's variables).
const kScrubbedEnv = [
    'AUTHORITY', 'TENANT_ID', 'CLIENT_ID', 'CLIENT_SECRET', 'API_A_SCOPE', 'REDIRECT_URI', 'MCP_URL', 'MSAL_CACHE_PATH',
    'AUTH_ENABLED', 'DEPUTY_CA_FILE', 'DEPUTY_USERNAME', 'DEPUTY_PASSWORD', 'DEPUTY_OTP', 'BROWSER',
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function deputyExecutable() {
    const buildDir = process.env.DEPUTY_BUILD_DIR;
    if (!buildDir) {
        throw new Error("DEPUTY_BUILD_DIR is not set: point it at deputy's build directory (the one holding `deputy`).");
    }
    const exe = resolve(buildDir, 'deputy');
    if (!existsSync(exe)) throw new Error(`${exe} does not exist: build deputy first (DEPUTY_BUILD_DIR=${buildDir}).`);
    return exe;
}

/** Rejects with a clear message when something already listens on the redirect URI's port. */
function checkPortFree(port) {
    return new Promise((resolveFree, rejectBusy) => {
        const probe = createServer();
        probe.once('error', (err) =>
            rejectBusy(
                new Error(
                    `port ${port} is busy (${err.code}): the redirect URI ${F.redirectUri} registered in the dev ` +
                        'directory needs it for `deputy login`; stop whatever listens there (another sign-in?) and run again'
                )
            )
        );
        probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => resolveFree()));
    });
}

/** A child process whose exit and output can be awaited; `stop()` ends it (SIGTERM, then SIGKILL). */
function run(exe, args, { cwd, env }) {
    const child = spawn(exe, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (c) => (out.stdout = (out.stdout + c).slice(-kStderrKeepBytes)));
    child.stderr.setEncoding('utf8').on('data', (c) => (out.stderr = (out.stderr + c).slice(-kStderrKeepBytes)));
    let exited = null;
    const done = new Promise((r) => {
        child.on('exit', (code, signal) => r((exited = { code, signal })));
        child.on('error', (err) => r((exited = { code: null, signal: null, error: err })));
    });
    return {
        child,
        out,
        running: () => exited === null,
        /** The exit with its output; SIGKILL and a rejection past `ms`. */
        async exit(ms = kCommandTimeoutMs) {
            let timer;
            const late = new Promise((_, reject) => {
                timer = setTimeout(() => {
                    child.kill('SIGKILL');
                    reject(new Error(`${args[0]} did not exit within ${ms} ms\n--- stderr ---\n${out.stderr}`));
                }, ms);
            });
            try {
                const how = await Promise.race([done, late]);
                return { ...how, stdout: out.stdout, stderr: out.stderr };
            } finally {
                clearTimeout(timer);
            }
        },
        async stop() {
            if (exited) return;
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), kStopGraceMs);
            await done;
            clearTimeout(timer);
        },
    };
}

/** The base64 SHA-256 of the provider's certificate's public key, as Chromium's SPKI pin list takes it. */
function serverSpki(origin) {
    const { hostname, port } = new URL(origin);
    return new Promise((resolveSpki, rejectSpki) => {
        // Only the certificate is read here; it is checked against the dev CA below, not trusted blindly.
        const socket = tlsConnect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
            const der = socket.getPeerCertificate().raw;
            socket.end();
            const cert = new X509Certificate(der);
            const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
            resolveSpki({ cert, spki: createHash('sha256').update(spki).digest('base64') });
        });
        socket.setTimeout(kPageTimeoutMs, () => socket.destroy(new Error(`no TLS handshake with ${origin}`)));
        socket.once('error', rejectSpki);
    });
}

describe('deputy login through a real browser (Chromium) against deputy dev', { concurrency: 1 }, () => {
    let exe;
    let dir;
    let dev;
    let mcpUrl;
    let authorityHost;
    let browser;
    const children = [];
    // This case's `deputy` commands: stopped after it whatever happened, so a failed case's `deputy login` does
    // not keep port 8100 from the next one.
    let caseChildren = [];

    before(async () => {
        exe = deputyExecutable();
        assert.ok(existsSync(kChromium), `${kChromium} is missing: install Debian's chromium package`);
        await checkPortFree(F.redirectPort);
        dir = mkdtempSync(join(tmpdir(), 'deputy-browser-'));
        const state = join(dir, 'state');
        dev = run(exe, ['dev', '--port', '0', '--idp-port', '0', '--graph-port', '0', '--state', state], {
            cwd: dir,
            env: scrubbedEnv(),
        });
        children.push(dev);
        const deadline = Date.now() + kReadyTimeoutMs;
        let mcp = null;
        while (!mcp && Date.now() < deadline && dev.running()) {
            mcp = /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(dev.out.stderr);
            if (!mcp) await sleep(kPollMs);
        }
        assert.ok(mcp, `deputy dev printed no ready line within ${kReadyTimeoutMs} ms\n${dev.out.stderr}`);
        const authority = /authority\s+(https:\/\/127\.0\.0\.1:\d+)\/[0-9a-f-]+\s/.exec(dev.out.stderr);
        assert.ok(authority, `deputy dev printed no authority line\n${dev.out.stderr}`);
        mcpUrl = mcp[1];
        authorityHost = authority[1];

        // Chromium trusts the provider's certificate by its key, once Node has checked it is the dev CA's.
        const { cert, spki } = await serverSpki(authorityHost);
        const ca = new X509Certificate(readFileSync(join(state, 'ca.pem')));
        assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'the provider does not serve a certificate of <state>/ca.pem');
        browser = await chromium.launch({
            executablePath: kChromium,
            headless: true,
            args: [...kChromiumArgs, `--ignore-certificate-errors-spki-list=${spki}`],
            timeout: kPageTimeoutMs,
        });
    });

    afterEach(async () => {
        for (const child of caseChildren) await child.stop();
        caseChildren = [];
    });

    after(async () => {
        await browser?.close().catch(() => {});
        for (const child of children.reverse()) await child.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
    });

    function scrubbedEnv() {
        const env = { ...process.env, NO_COLOR: '1' };
        for (const name of kScrubbedEnv) delete env[name];
        return env;
    }

    /** Settings for `deputy` (docs/client.md), a cache of this case's own, and a $BROWSER that records the URL. */
    function clientEnv(name) {
        const caseDir = join(dir, name);
        mkdirSync(caseDir, { recursive: true });
        const urlFile = join(caseDir, 'browser-url');
        const browserScript = join(caseDir, 'browser.sh');
        writeFileSync(browserScript, `#!/bin/sh\nprintf '%s\\n' "$1" > '${urlFile}.tmp' && mv '${urlFile}.tmp' '${urlFile}'\n`);
        chmodSync(browserScript, 0o755);
        const env = {
            ...scrubbedEnv(),
            AUTHORITY: authorityHost,
            DEPUTY_CA_FILE: join(dir, 'state', 'ca.pem'),
            MSAL_CACHE_PATH: join(caseDir, 'cache', 'msal_cache.json'),
            MCP_URL: mcpUrl,
            BROWSER: browserScript,
        };
        return { caseDir, urlFile, env };
    }

    /** Starts `deputy login` and waits (bounded) for the authorize URL it hands to $BROWSER. */
    async function startLogin(name, extraArgs = []) {
        const client = clientEnv(name);
        const login = run(exe, ['login', ...extraArgs], { cwd: client.caseDir, env: client.env });
        caseChildren.push(login);
        const deadline = Date.now() + kBrowserUrlTimeoutMs;
        while (!existsSync(client.urlFile) && Date.now() < deadline && login.running()) await sleep(kPollMs);
        assert.ok(
            existsSync(client.urlFile),
            `deputy login did not open $BROWSER within ${kBrowserUrlTimeoutMs} ms\n--- stderr ---\n${login.out.stderr}`
        );
        const url = readFileSync(client.urlFile, 'utf8').trim();
        assert.ok(url.startsWith(`${authorityHost}/`), `the authorize URL is not the provider's: ${url}`);
        assert.match(login.out.stderr, /Opened the browser to sign in/);
        return { ...client, login, url };
    }

    async function newPage() {
        const context = await browser.newContext();
        const page = await context.newPage();
        page.setDefaultTimeout(kPageTimeoutMs);
        return { context, page };
    }

    async function signIn(page, password) {
        await page.fill('#username', F.alice.upn);
        await page.fill('#password', password);
        await page.click('#submit');
    }

    const callbackUrl = (url) => url.href.startsWith(`${F.redirectUri}?`);

    it('alice signs in in the browser, deputy login caches her tokens, deputy tools lists her tools', { timeout: kCaseTimeoutMs }, async () => {
        const { login, url, env, caseDir } = await startLogin('alice');
        const { context, page } = await newPage();
        try {
            await page.goto(url);
            await signIn(page, F.alice.password);
            await page.waitForURL(callbackUrl);
            assert.match(new URL(page.url()).search, /[?&]code=/);
            const text = await page.textContent('body');
            assert.match(text, /Signed in/);
            assert.match(text, /deputy has your sign-in\. You can close this window\./);
        } finally {
            await context.close();
        }
        const signedIn = await login.exit();
        assert.equal(signedIn.code, 0, `deputy login failed\n${signedIn.stderr}`);
        assert.equal(signedIn.stdout.trim(), `Signed in as ${F.alice.upn} (${F.alice.name})`);

        const tools = run(exe, ['tools'], { cwd: caseDir, env });
        caseChildren.push(tools);
        const listed = await tools.exit();
        assert.equal(listed.code, 0, `deputy tools failed\n${listed.stderr}`);
        const names = listed.stdout
            .split('\n')
            .map((line) => /^(\S+)/.exec(line)?.[1])
            .filter((name) => name && F.aliceTools.includes(name));
        assert.deepEqual([...new Set(names)].sort(), F.aliceTools);
    });

    it('a wrong password: the page says so, and deputy login gives up with a clear timeout message', { timeout: kCaseTimeoutMs }, async () => {
        const { login, url } = await startLogin('wrong-password', ['--timeout', String(kLoginGiveUpSeconds)]);
        const { context, page } = await newPage();
        try {
            await page.goto(url);
            await signIn(page, 'not-alices-password');
            const alert = page.locator('p.error[role="alert"]');
            await alert.waitFor();
            assert.equal((await alert.textContent()).trim(), F.wrongPassword);
            assert.ok(await page.isVisible('#password'), 'the sign-in page is not shown again');
            assert.ok(!callbackUrl(new URL(page.url())), 'the browser was sent to the redirect URI');
        } finally {
            await context.close();
        }
        const gaveUp = await login.exit((kLoginGiveUpSeconds + 15) * 1000);
        assert.notEqual(gaveUp.code, 0, 'deputy login succeeded without a sign-in');
        assert.equal(gaveUp.stdout, '');
        assert.match(
            gaveUp.stderr,
            new RegExp(`no sign-in came back to ${F.redirectUri.replaceAll('.', '\\.')} within ${kLoginGiveUpSeconds} s`)
        );
        assert.match(gaveUp.stderr, /run `deputy login` again/);
    });

    it('a denied consent (--prompt consent, Cancel): the browser and deputy login name access_denied', { timeout: kCaseTimeoutMs }, async () => {
        const { login, url } = await startLogin('denied', ['--prompt', 'consent']);
        assert.match(new URL(url).search, /[?&]prompt=consent(&|$)/);
        const { context, page } = await newPage();
        try {
            await page.goto(url);
            await signIn(page, F.alice.password);
            await page.locator('#cancel').waitFor();
            assert.ok(await page.isVisible('#accept'), 'the consent page has no Accept button');
            await page.click('#cancel');
            await page.waitForURL(callbackUrl);
            const params = new URL(page.url()).searchParams;
            assert.equal(params.get('error'), 'access_denied');
            assert.match(params.get('error_description') ?? '', /AADSTS65004/);
            assert.equal(params.get('code'), null);
            const text = await page.textContent('body');
            assert.match(text, /Sign-in failed/);
            assert.match(text, /access_denied/);
        } finally {
            await context.close();
        }
        const refused = await login.exit();
        assert.equal(refused.code, 1, `deputy login exited ${refused.code}\n${refused.stderr}`);
        assert.equal(refused.stdout, '');
        assert.match(refused.stderr, /^deputy login: access_denied: AADSTS65004: User declined to consent/m);
    });

    it('deputy login refuses an unknown --prompt', { timeout: kCaseTimeoutMs }, async () => {
        const { env, caseDir } = clientEnv('bad-prompt');
        const bad = run(exe, ['login', '--prompt', 'sometimes'], { cwd: caseDir, env });
        caseChildren.push(bad);
        const refused = await bad.exit();
        assert.notEqual(refused.code, 0);
        assert.match(refused.stderr, /--prompt/);
        assert.ok(!existsSync(join(caseDir, 'browser-url')), 'a browser was opened anyway');
    });
});
