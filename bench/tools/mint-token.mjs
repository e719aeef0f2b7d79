#!/usr/bin/env node
// Token minting for bench/run's "authenticated tools/call" section: an RSA key pair, its JWKS, and one Entra-shaped
// v2 delegated access token signed with it (RS256, `kid` in the JWKS), valid for --seconds.
//
//   node bench/tools/mint-token.mjs --out-dir DIR --tenant TID --client CLIENT_ID [--roles Task.All] [--seconds 3600]
//
// Writes DIR/keys.json (the public JWKS, for deputy's auth.jwks_file and the TypeScript peer's --jwks) and prints the
// token on stdout (one line). jose comes from tests/interop/node_modules (npm ci there).

import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const kRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const kInterop = join(kRoot, 'tests', 'interop');

function parseArgs(argv) {
    const opts = { outDir: null, tenant: null, client: null, roles: ['Task.All'], seconds: 3600, kid: 'bench-key-1' };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) fail(`${arg} needs a value`);
            return argv[++i];
        };
        if (arg === '--out-dir') opts.outDir = value();
        else if (arg === '--tenant') opts.tenant = value();
        else if (arg === '--client') opts.client = value();
        else if (arg === '--roles') opts.roles = value().split(',').filter(Boolean);
        else if (arg === '--seconds') opts.seconds = Number(value());
        else if (arg === '--kid') opts.kid = value();
        else fail(`unknown argument ${arg}`);
    }
    if (!opts.outDir || !opts.tenant || !opts.client) fail('--out-dir, --tenant and --client are required');
    if (!Number.isInteger(opts.seconds) || opts.seconds <= 0) fail('--seconds must be a positive whole number');
    return opts;
}

function fail(why) {
    console.error(`mint-token: ${why}`);
    process.exit(2);
}

let jose;
try {
    const entry = createRequire(join(kInterop, 'package.json')).resolve('jose');
    jose = await import(pathToFileURL(entry).href);
} catch (err) {
    fail(`cannot load jose from ${kInterop}/node_modules (cd tests/interop && npm ci): ${err.message}`);
}

const opts = parseArgs(process.argv.slice(2));
const { publicKey, privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await jose.exportJWK(publicKey)), kid: opts.kid, alg: 'RS256', use: 'sig' };
writeFileSync(join(opts.outDir, 'keys.json'), JSON.stringify({ keys: [jwk] }) + '\n');

// The claims (and so about the size) of a real Entra v2 access token for a user of the MCP server's app.
const now = Math.floor(Date.now() / 1000);
const claims = {
    aud: opts.client,
    iss: `https://login.microsoftonline.com/${opts.tenant}/v2.0`,
    iat: now - 5,
    nbf: now - 5,
    exp: now + opts.seconds,
    aio: randomBytes(96).toString('base64url'),
    azp: '5c4d3e2f-1a0b-4c9d-8e7f-6a5b4c3d2e1f',
    azpacr: '0',
    name: 'Bench User',
    oid: '0a1b2c3d-0000-4000-8000-0000000be7c4',
    preferred_username: 'bench.user@contoso.test',
    rh: `1.${randomBytes(48).toString('base64url')}.`,
    roles: opts.roles,
    scp: 'access_as_user',
    sid: randomUUID(),
    sub: randomBytes(32).toString('base64url'),
    tid: opts.tenant,
    uti: randomBytes(16).toString('base64url'),
    ver: '2.0',
};
const token = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: opts.kid, typ: 'JWT' }).sign(privateKey);
process.stdout.write(token + '\n');
