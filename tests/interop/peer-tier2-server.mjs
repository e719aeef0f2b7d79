#!/usr/bin/env node
// The TypeScript SDK peer of Tier 2: what `deputy dev`'s MCP server does for check_sharepoint_site_access, built the
// ordinary way in TypeScript. McpServer + StreamableHTTPServerTransport (stateful sessions) on express, behind the
// SDK's `requireBearerAuth` with a jose verifier against the identity provider's JWKS URL (createRemoteJWKSet), and a
// tool that exchanges the caller's token On-Behalf-Of with @azure/msal-node's ConfidentialClientApplication (which
// caches OBO results in memory, keyed by the assertion) and calls Microsoft Graph with `fetch`. It is the comparison
// server of bench/run's "tier2" section; its answers are deputy's, word for word.
//
//   NODE_EXTRA_CA_CERTS=<state>/ca.pem PEER_CLIENT_SECRET=<secret> node peer-tier2-server.mjs \
//       --authority-host https://127.0.0.1:IDP_PORT --tenant <tid> --client-id <server app> \
//       --graph https://127.0.0.1:GRAPH_PORT --sharepoint-host deputydev.sharepoint.com \
//       [--scope https://graph.microsoft.com/.default]... --host 127.0.0.1 --port 0
//
// --scope: what to ask msal-node for (default .default, as deputy). Note that msal-node 7 looks an OBO token up in its
// cache by the scopes asked for, and stores it under the scopes the token endpoint answers with; Entra (and deputy's
// development provider) answer a .default request with the scopes granted, so with .default every call exchanges
// again. Naming the granted scopes (Sites.Read.All User.Read) lets msal-node's cache find the token.
//
// The client secret comes from the environment (never the command line, where `ps` shows it). TLS trust for the
// development provider's local CA is node's own NODE_EXTRA_CA_CERTS. Token checks as deputy's Entra defaults: RS256,
// issuer and audience exact (client id or api://client id), 60 s leeway, `ver` 2.0, scope access_as_user, no app-only
// tokens, sessions bound to the user who opened them. Prints `listening on http://HOST:PORT/mcp` on stderr once
// ready. Logs go to stderr only, and never carry a token or the secret.

import { randomUUID } from 'node:crypto';
import process from 'node:process';
import express from 'express';
import * as jose from 'jose';
import * as z from 'zod';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { ErrorCode, McpError, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

// deputy's defaults (config: leeway_seconds, accepted_versions, algorithms, graph.scopes; the seed's roles).
const kLeewaySeconds = 60;
const kAcceptedVersions = ['2.0'];
const kAlgorithms = ['RS256'];
const kRequiredScope = 'access_as_user';
// What deputy asks for (graph.scopes); --scope replaces it.
const kDefaultGraphScopes = ['https://graph.microsoft.com/.default'];
const kRolesGrantingRead = ['Task.All', 'Task.Write', 'Task.Read'];
// deputy's input schema for site_name.
const kSiteNameMaxLength = 256;

function parseArgs(argv) {
    const opts = { host: '127.0.0.1', port: 0, authorityHost: null, tenant: null, clientId: null, graph: null,
                   sharepointHost: null, scopes: [] };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) usage(`${arg} needs a value`);
            return argv[++i];
        };
        if (arg === '--host') opts.host = value();
        else if (arg === '--port') opts.port = Number(value());
        else if (arg === '--authority-host') opts.authorityHost = value().replace(/\/+$/, '');
        else if (arg === '--tenant') opts.tenant = value();
        else if (arg === '--client-id') opts.clientId = value();
        else if (arg === '--graph') opts.graph = value().replace(/\/+$/, '');
        else if (arg === '--sharepoint-host') opts.sharepointHost = value();
        else if (arg === '--scope') opts.scopes.push(value());
        else usage(`unknown argument ${arg}`);
    }
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
    for (const [flag, key] of [
        ['--authority-host', 'authorityHost'],
        ['--tenant', 'tenant'],
        ['--client-id', 'clientId'],
        ['--graph', 'graph'],
        ['--sharepoint-host', 'sharepointHost'],
    ]) {
        if (!opts[key]) usage(`${flag} is required`);
    }
    if (opts.scopes.length === 0) opts.scopes = kDefaultGraphScopes;
    opts.clientSecret = process.env.PEER_CLIENT_SECRET;
    if (!opts.clientSecret) usage('PEER_CLIENT_SECRET (the server app\'s client secret) must be set');
    return opts;
}

function usage(why) {
    console.error(`peer-tier2: ${why}`);
    console.error(
        'usage: PEER_CLIENT_SECRET=... peer-tier2-server.mjs --authority-host URL --tenant TID --client-id ID ' +
            '--graph URL --sharepoint-host HOST [--scope SCOPE]... --host H --port P'
    );
    process.exit(2);
}

/** The SDK's OAuthTokenVerifier, with jose: signature against the provider's JWKS URL, then deputy's claim checks. */
function makeVerifier({ jwksUrl, issuer, audiences, resource }) {
    const keySet = jose.createRemoteJWKSet(jwksUrl);
    return {
        async verifyAccessToken(token) {
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
                throw new InvalidTokenError(`Invalid token: ${err.code ?? 'verification failed'}`);
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
                },
            };
        },
    };
}

const text = (t) => ({ content: [{ type: 'text', text: t }] });
const errorText = (t) => ({ content: [{ type: 'text', text: t }], isError: true });

/**
 * One McpServer per session, as the SDK's own examples do. check_sharepoint_site_access as deputy's: the caller's
 * token exchanged On-Behalf-Of for Graph (msal-node answers from its cache while the Graph token is good), then
 * GET {graph}/v1.0/sites/{host}:/sites/{site} with it, and the seed's three answers.
 */
function buildServer({ msal, graph, sharepointHost, scopes }) {
    const server = new McpServer({ name: 'peer-tier2-server', version: '0.1.0' }, { capabilities: { logging: {} } });
    server.registerTool(
        'check_sharepoint_site_access',
        {
            title: 'Check SharePoint site access',
            description: 'Check if the user has access to a specific SharePoint site using Microsoft Graph.',
            inputSchema: { site_name: z.string().min(1).max(kSiteNameMaxLength) },
            annotations: { readOnlyHint: true, openWorldHint: true },
        },
        async ({ site_name: site }, extra) => {
            const roles = extra.authInfo?.extra?.roles ?? [];
            // A tool the caller may not use answers like an unknown tool, as in deputy.
            if (!roles.some((r) => kRolesGrantingRead.includes(r))) {
                throw new McpError(ErrorCode.InvalidParams, 'Unknown tool: check_sharepoint_site_access');
            }
            let graphToken;
            try {
                const result = await msal.acquireTokenOnBehalfOf({
                    oboAssertion: extra.authInfo.token,
                    scopes,
                });
                graphToken = result?.accessToken;
            } catch (err) {
                // The error code only: MSAL's messages may quote the request.
                console.error(`peer-tier2: On-Behalf-Of exchange failed: ${err.errorCode ?? err.name}`);
                return errorText('The token exchange for Microsoft Graph failed');
            }
            if (!graphToken) return errorText('The token exchange for Microsoft Graph failed');
            const url = `${graph}/v1.0/sites/${sharepointHost}:/sites/${encodeURIComponent(site)}`;
            let response;
            try {
                response = await fetch(url, { headers: { Authorization: `Bearer ${graphToken}` } });
                // The body is not used, but must be read for the connection to go back to the pool.
                await response.arrayBuffer();
            } catch (err) {
                console.error(`peer-tier2: Microsoft Graph unreachable: ${err.cause?.code ?? err.name}`);
                return errorText('Microsoft Graph could not be reached');
            }
            if (response.status === 200) return text(`✅ Access granted to site: ${site}`);
            if (response.status === 403 || response.status === 404) return text(`❌ Access denied to site: ${site}`);
            return errorText(`⚠️ Error: ${response.status}`);
        }
    );
    return server;
}

function jsonRpcError(res, status, code, message) {
    res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}

async function serveHttp(opts) {
    const { host, port, authorityHost, tenant, clientId, clientSecret, graph, sharepointHost, scopes } = opts;
    const authority = `${authorityHost}/${tenant}`;
    // One application object for the whole server: its in-memory token cache is what makes repeated calls cheap.
    const msal = new ConfidentialClientApplication({
        auth: {
            clientId,
            clientSecret,
            authority,
            // A non-Microsoft host: MSAL must not ask login.microsoftonline.com for instance metadata about it.
            knownAuthorities: [new URL(authorityHost).host],
        },
        system: { loggerOptions: { piiLoggingEnabled: false, logLevel: 0 /* Error */, loggerCallback: () => {} } },
    });
    const sessions = new Map(); // Mcp-Session-Id -> {transport, user}
    const app = express();

    let base;
    const metadata = () => ({
        resource: `${base}/mcp`,
        authorization_servers: [`${authority}/v2.0`],
        bearer_methods_supported: ['header'],
        scopes_supported: [kRequiredScope],
        resource_name: 'peer-tier2-server',
    });
    app.get(['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp'], (_req, res) =>
        res.json(metadata())
    );

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
            await buildServer({ msal, graph, sharepointHost, scopes }).connect(transport);
            await transport.handleRequest(req, res, req.body);
        } catch (err) {
            console.error('peer-tier2: POST /mcp failed:', err.name);
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
            console.error(`peer-tier2: ${req.method} /mcp failed:`, err.name);
            if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal error');
        }
    };
    app.get('/mcp', sessionRequest);
    app.delete('/mcp', sessionRequest);

    const httpServer = app.listen(port, host, () => {
        const { port: bound } = httpServer.address();
        base = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
        bearer = requireBearerAuth({
            verifier: makeVerifier({
                jwksUrl: new URL(`${authority}/discovery/v2.0/keys`),
                issuer: `${authority}/v2.0`,
                audiences: [clientId, `api://${clientId}`],
                resource: new URL(`${base}/mcp`),
            }),
            requiredScopes: [kRequiredScope],
            resourceMetadataUrl: `${base}/.well-known/oauth-protected-resource/mcp`,
        });
        console.error(`listening on ${base}/mcp`);
    });
    httpServer.on('error', (err) => {
        console.error('peer-tier2: listen failed:', err.message);
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
