#!/usr/bin/env node
// The TypeScript SDK peer with authentication: what `deputy serve` with Tier 1 on does, built the ordinary way with
// the official SDK. McpServer + StreamableHTTPServerTransport (stateful sessions) on express, behind the SDK's
// `requireBearerAuth` middleware, whose verifier checks RS256 tokens with jose (`createRemoteJWKSet` + `jwtVerify`)
// against a JWKS served by this same app at /jwks.json. It is the TypeScript comparison server of bench/run's
// "authenticated tools/call" section; its `test_write_tool` answers exactly like `deputy serve`'s, its `echo` like
// hello-server's.
//
//   node peer-auth-server.mjs --jwks keys.json --issuer https://login.microsoftonline.com/<tid>/v2.0 \
//       --audience <client-id> [--audience api://<client-id>] [--scope access_as_user] --host 127.0.0.1 --port 0
//
// The checks follow deputy's Entra defaults: RS256 only, `kid` in the JWKS, iss and aud exact, exp required, 60 s
// leeway, `ver` 2.0, the required delegated scope in `scp`, app-only tokens (no scp) refused, sessions bound to the
// user who opened them (tid/oid), `echo` only for the roles that grant its `read` tag and `test_write_tool` only for
// Task.All and Task.Write (the seed's rule). Prints `listening on http://HOST:PORT/mcp` on stderr once ready. Logs go
// to stderr only.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import express from 'express';
import * as jose from 'jose';
import * as z from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { ErrorCode, McpError, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

// deputy's defaults (config: leeway_seconds, accepted_versions, algorithms; the seed's roles).
const kLeewaySeconds = 60;
const kAcceptedVersions = ['2.0'];
const kAlgorithms = ['RS256'];
const kRolesGrantingRead = ['Task.All', 'Task.Write', 'Task.Read'];
const kRolesGrantingWrite = ['Task.All', 'Task.Write'];

function parseArgs(argv) {
    const opts = { host: '127.0.0.1', port: 0, jwks: null, issuer: null, audiences: [], scope: 'access_as_user' };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) usage(`${arg} needs a value`);
            return argv[++i];
        };
        if (arg === '--host') opts.host = value();
        else if (arg === '--port') opts.port = Number(value());
        else if (arg === '--jwks') opts.jwks = value();
        else if (arg === '--issuer') opts.issuer = value();
        else if (arg === '--audience') opts.audiences.push(value());
        else if (arg === '--scope') opts.scope = value();
        else usage(`unknown argument ${arg}`);
    }
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
    if (!opts.jwks) usage('--jwks is required');
    if (!opts.issuer) usage('--issuer is required');
    if (opts.audiences.length === 0) usage('at least one --audience is required');
    return opts;
}

function usage(why) {
    console.error(`peer-auth-server: ${why}`);
    console.error(
        'usage: peer-auth-server.mjs --jwks FILE --issuer ISS --audience AUD [--audience AUD] [--scope SCOPE] ' +
            '--host H --port P'
    );
    process.exit(2);
}

/** The public JWKS from `file`: only public members of each key are served. */
function loadJwks(file) {
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(doc?.keys) || doc.keys.length === 0) throw new Error(`${file}: no "keys" array`);
    const publicMembers = ['kty', 'kid', 'use', 'alg', 'n', 'e', 'x5t', 'x5c', 'crv', 'x', 'y'];
    return {
        keys: doc.keys.map((key) => Object.fromEntries(publicMembers.filter((m) => m in key).map((m) => [m, key[m]]))),
    };
}

/** The SDK's OAuthTokenVerifier, with jose: signature against the JWKS URL, then deputy's claim checks. */
function makeVerifier({ jwksUrl, issuer, audiences, resource }) {
    let keySet;
    return {
        async verifyAccessToken(token) {
            keySet ??= jose.createRemoteJWKSet(jwksUrl);
            let payload;
            try {
                ({ payload } = await jose.jwtVerify(token, keySet, {
                    issuer,
                    audience: audiences,
                    algorithms: kAlgorithms,
                    clockTolerance: kLeewaySeconds,
                    requiredClaims: ['exp'],
                }));
            } catch (err) {
                throw new InvalidTokenError(`Invalid token: ${err.code ?? err.message}`);
            }
            if (!kAcceptedVersions.includes(payload.ver)) throw new InvalidTokenError('Token version not accepted');
            if (typeof payload.scp !== 'string' || payload.idtyp === 'app') {
                throw new InvalidTokenError('App-only tokens are not accepted');
            }
            if (!payload.oid && !payload.sub) throw new InvalidTokenError('Token names no user');
            return {
                token,
                clientId: String(payload.azp ?? payload.appid ?? ''),
                scopes: payload.scp.split(' ').filter(Boolean),
                expiresAt: payload.exp,
                resource,
                extra: {
                    user: payload.tid && payload.oid ? `oid:${payload.tid}/${payload.oid}` : `sub:${payload.iss}|${payload.sub}`,
                    roles: Array.isArray(payload.roles) ? payload.roles.filter((r) => typeof r === 'string') : [],
                    username: payload.preferred_username,
                },
            };
        },
    };
}

const text = (t) => ({ content: [{ type: 'text', text: t }] });

/** One McpServer per session, as the SDK's own examples do; `echo` as deputy's hello-server's (tag read). */
function buildServer() {
    const server = new McpServer({ name: 'peer-auth-server', version: '0.1.0' }, { capabilities: { logging: {} } });
    server.registerTool(
        'echo',
        {
            description: 'Returns the message it is given.',
            inputSchema: { message: z.string().describe('The text to echo back') },
        },
        async ({ message }, extra) => {
            const roles = extra.authInfo?.extra?.roles ?? [];
            // A tool the caller may not use answers like an unknown tool, as in deputy.
            if (!roles.some((r) => kRolesGrantingRead.includes(r))) {
                throw new McpError(ErrorCode.InvalidParams, 'Unknown tool: echo');
            }
            return text(message);
        }
    );
    // test_write_tool as deputy's (the seed's): Task.All or Task.Write only, the same text and structured content.
    const kWriteMessage = 'This is a write test tool response';
    server.registerTool(
        'test_write_tool',
        {
            title: 'Test write tool',
            description: 'A write operation for testing role-based access: needs the Task.All or Task.Write role',
            inputSchema: {},
            outputSchema: { message: z.string() },
            annotations: { readOnlyHint: false, destructiveHint: false },
        },
        async (_args, extra) => {
            const roles = extra.authInfo?.extra?.roles ?? [];
            if (!roles.some((r) => kRolesGrantingWrite.includes(r))) {
                throw new McpError(ErrorCode.InvalidParams, 'Unknown tool: test_write_tool');
            }
            return { ...text(kWriteMessage), structuredContent: { message: kWriteMessage } };
        }
    );
    return server;
}

function jsonRpcError(res, status, code, message) {
    res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}

async function serveHttp({ host, port, jwks: jwksFile, issuer, audiences, scope }) {
    const jwks = loadJwks(jwksFile);
    const sessions = new Map(); // Mcp-Session-Id -> {transport, user}
    const app = express();

    // The issuer's keys, for the verifier (and anyone else): public members only.
    app.get('/jwks.json', (_req, res) => res.json(jwks));

    // Filled in once the port is known.
    let base;
    const metadata = () => ({
        resource: `${base}/mcp`,
        authorization_servers: [issuer],
        bearer_methods_supported: ['header'],
        scopes_supported: [scope],
        resource_name: 'peer-auth-server',
    });
    app.get(['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp'], (_req, res) =>
        res.json(metadata())
    );

    let verifier;
    let bearer;
    const auth = (req, res, next) => {
        // Tokens never in the query string (MCP authorization spec).
        if (req.query?.access_token !== undefined) {
            res.set('WWW-Authenticate', 'Bearer error="invalid_request", error_description="Token in the query string"');
            return res.status(401).json({ error: 'invalid_request' });
        }
        return bearer(req, res, next);
    };

    app.use('/mcp', auth, express.json({ limit: '4mb' }));

    const ownSession = (req, res) => {
        const sessionId = req.get('mcp-session-id');
        const entry = sessionId ? sessions.get(sessionId) : undefined;
        // Another user's session is answered like one that does not exist.
        if (!entry || entry.user !== req.auth.extra.user) {
            jsonRpcError(res, 404, -32001, 'Session not found');
            return undefined;
        }
        return entry.transport;
    };

    app.post('/mcp', async (req, res) => {
        try {
            if (req.get('mcp-session-id')) {
                const transport = ownSession(req, res);
                if (transport) await transport.handleRequest(req, res, req.body);
                return;
            }
            if (!isInitializeRequest(req.body)) {
                return jsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
            }
            const user = req.auth.extra.user;
            const transport = new StreamableHTTPServerTransport({
                sessionIdGenerator: () => randomUUID(),
                onsessioninitialized: (id) => sessions.set(id, { transport, user }),
            });
            transport.onclose = () => {
                if (transport.sessionId) sessions.delete(transport.sessionId);
            };
            await buildServer().connect(transport);
            await transport.handleRequest(req, res, req.body);
        } catch (err) {
            console.error('peer-auth: POST /mcp failed:', err);
            if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal error');
        }
    });

    const sessionRequest = async (req, res) => {
        if (!req.get('mcp-session-id')) {
            return jsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
        }
        const transport = ownSession(req, res);
        if (!transport) return;
        try {
            await transport.handleRequest(req, res);
        } catch (err) {
            console.error(`peer-auth: ${req.method} /mcp failed:`, err);
            if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal error');
        }
    };
    app.get('/mcp', sessionRequest);
    app.delete('/mcp', sessionRequest);

    const httpServer = app.listen(port, host, () => {
        const { port: bound } = httpServer.address();
        base = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
        verifier = makeVerifier({
            jwksUrl: new URL(`${base}/jwks.json`),
            issuer,
            audiences,
            resource: new URL(`${base}/mcp`),
        });
        bearer = requireBearerAuth({
            verifier,
            requiredScopes: [scope],
            resourceMetadataUrl: `${base}/.well-known/oauth-protected-resource/mcp`,
        });
        console.error(`listening on ${base}/mcp`);
    });
    httpServer.on('error', (err) => {
        console.error('peer-auth: listen failed:', err.message);
        process.exit(1);
    });

    const shutdown = async () => {
        for (const { transport } of sessions.values()) await transport.close().catch(() => {});
        httpServer.close(() => process.exit(0));
        httpServer.closeAllConnections?.();
        setTimeout(() => process.exit(0), 1000).unref();
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
}

await serveHttp(parseArgs(process.argv.slice(2)));
