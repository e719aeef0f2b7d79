#!/usr/bin/env node
// The TypeScript SDK peer: the same contract as deputy's examples/hello-server and examples/everything-server,
// built the ordinary way with the official SDK (McpServer; StreamableHTTPServerTransport on express with stateful
// sessions, or StdioServerTransport). It lets the interop tests be checked before deputy exists, and it is the
// TypeScript comparison server for the benchmarks (its `echo` answers exactly like hello-server's).
//
//   node peer-everything-server.mjs [--profile hello|everything] --host 127.0.0.1 --port 0
//   node peer-everything-server.mjs [--profile hello|everything] --stdio
//
// HTTP prints `listening on http://HOST:PORT/mcp` on stderr once ready. Logs go to stderr only.

import { randomUUID } from 'node:crypto';
import process from 'node:process';
import express from 'express';
import * as z from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ElicitResultSchema, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

// test_cancellable gives up by itself after this long, so a lost cancellation cannot hang a run forever.
const kCancellableMaxMs = 30_000;
// test_cancellable reports progress this often while it waits (only when asked for progress).
const kCancellableHeartbeatMs = 100;
// test_tool_with_progress pauses this long between its notifications (the conformance fixture says ~50 ms).
const kProgressStepMs = 50;

function parseArgs(argv) {
    const opts = { host: '127.0.0.1', port: 0, stdio: false, profile: 'everything' };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) usage(`${arg} needs a value`);
            return argv[++i];
        };
        if (arg === '--stdio') opts.stdio = true;
        else if (arg === '--host') opts.host = value();
        else if (arg === '--port') opts.port = Number(value());
        else if (arg === '--profile') opts.profile = value();
        else usage(`unknown argument ${arg}`);
    }
    if (opts.profile !== 'hello' && opts.profile !== 'everything') usage(`unknown profile ${opts.profile}`);
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
    return opts;
}

function usage(why) {
    console.error(`peer-everything-server: ${why}`);
    console.error('usage: peer-everything-server.mjs [--profile hello|everything] (--stdio | --host H --port P)');
    process.exit(2);
}

const sleep = (ms, signal) =>
    new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
        });
    });

const text = (t) => ({ content: [{ type: 'text', text: t }] });

/** One McpServer per session (HTTP) or per process (stdio), as the SDK's own examples do. */
function buildServer(profile) {
    const server = new McpServer(
        { name: profile === 'hello' ? 'hello-server' : 'everything-server', version: '0.1.0' },
        { capabilities: { logging: {} } }
    );

    server.registerTool(
        'echo',
        {
            description: 'Returns the message it is given.',
            inputSchema: { message: z.string().describe('The text to echo back') },
        },
        async ({ message }) => text(message)
    );
    if (profile === 'hello') return server;

    server.registerTool(
        'test_simple_text',
        { description: 'Returns simple text content' },
        async () => text('This is a simple text response for testing.')
    );

    server.registerTool(
        'test_tool_with_progress',
        { description: 'Reports progress 0, 50, 100 of 100 when the request carries a progressToken' },
        async (extra) => {
            const progressToken = extra._meta?.progressToken;
            for (const progress of [0, 50, 100]) {
                if (progressToken !== undefined) {
                    await extra.sendNotification({
                        method: 'notifications/progress',
                        params: { progressToken, progress, total: 100, message: `step ${progress}` },
                    });
                }
                if (progress < 100) await sleep(kProgressStepMs);
            }
            return text(`Progress tool completed (token ${JSON.stringify(progressToken ?? null)})`);
        }
    );

    server.registerTool(
        'test_elicitation',
        {
            description: 'Asks the client for a username and an email (elicitation/create)',
            inputSchema: { message: z.string().describe('The message to show the user') },
        },
        async ({ message }, extra) => {
            // extra.sendRequest ties the elicitation to this tools/call, so over HTTP it travels on the call's SSE stream.
            const answer = await extra.sendRequest(
                {
                    method: 'elicitation/create',
                    params: {
                        message,
                        requestedSchema: {
                            type: 'object',
                            properties: {
                                username: { type: 'string', description: "User's response" },
                                email: { type: 'string', description: "User's email address" },
                            },
                            required: ['username', 'email'],
                        },
                    },
                },
                ElicitResultSchema
            );
            return text(`User response: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
        }
    );

    server.registerTool(
        'test_cancellable',
        {
            description:
                `Waits until cancelled (at most ${kCancellableMaxMs / 1000} s); ` +
                'reports progress while it waits when the request carries a progressToken',
        },
        async (extra) => {
            const started = Date.now();
            // The heartbeat lets a client see that the work really stopped: progress after the cancellation would
            // reach it as a notification for a token it no longer knows.
            const progressToken = extra._meta?.progressToken;
            let beats = 0;
            const heartbeat =
                progressToken === undefined
                    ? undefined
                    : setInterval(() => {
                          if (extra.signal.aborted) return;
                          extra
                              .sendNotification({
                                  method: 'notifications/progress',
                                  params: { progressToken, progress: ++beats, message: 'waiting to be cancelled' },
                              })
                              .catch(() => {});
                      }, kCancellableHeartbeatMs);
            await sleep(kCancellableMaxMs, extra.signal);
            clearInterval(heartbeat);
            const waited = Date.now() - started;
            // After a cancellation the SDK drops whatever is returned here; nothing reaches the client.
            return text(extra.signal.aborted ? `cancelled after ${waited} ms` : `not cancelled within ${waited} ms`);
        }
    );

    server.registerPrompt('test_simple_prompt', { description: 'A simple prompt without arguments' }, async () => ({
        messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
    }));

    server.registerResource(
        'static-text',
        'test://static-text',
        { description: 'A static text resource', mimeType: 'text/plain' },
        async (uri) => ({
            contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
        })
    );

    return server;
}

function jsonRpcError(res, status, code, message) {
    res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}

async function serveHttp({ host, port, profile }) {
    const sessions = new Map(); // Mcp-Session-Id -> StreamableHTTPServerTransport

    const app = express();
    app.use(express.json({ limit: '4mb' }));

    // Stateful sessions: an initialize without a session id opens one; anything else must name a live one.
    app.post('/mcp', async (req, res) => {
        const sessionId = req.get('mcp-session-id');
        try {
            if (sessionId) {
                const transport = sessions.get(sessionId);
                if (!transport) return jsonRpcError(res, 404, -32001, 'Session not found');
                return await transport.handleRequest(req, res, req.body);
            }
            if (!isInitializeRequest(req.body)) {
                return jsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
            }
            const transport = new StreamableHTTPServerTransport({
                sessionIdGenerator: () => randomUUID(),
                onsessioninitialized: (id) => sessions.set(id, transport),
            });
            transport.onclose = () => {
                if (transport.sessionId) sessions.delete(transport.sessionId);
            };
            await buildServer(profile).connect(transport);
            await transport.handleRequest(req, res, req.body);
        } catch (err) {
            console.error('peer: POST /mcp failed:', err);
            if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal error');
        }
    });

    // GET (standalone SSE stream) and DELETE (end of session) both need a live session.
    const sessionRequest = async (req, res) => {
        const sessionId = req.get('mcp-session-id');
        if (!sessionId) return jsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
        const transport = sessions.get(sessionId);
        if (!transport) return jsonRpcError(res, 404, -32001, 'Session not found');
        try {
            await transport.handleRequest(req, res);
        } catch (err) {
            console.error(`peer: ${req.method} /mcp failed:`, err);
            if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal error');
        }
    };
    app.get('/mcp', sessionRequest);
    app.delete('/mcp', sessionRequest);

    const httpServer = app.listen(port, host, () => {
        const { port: bound } = httpServer.address();
        console.error(`listening on http://${host}:${bound}/mcp`);
    });
    httpServer.on('error', (err) => {
        console.error('peer: listen failed:', err.message);
        process.exit(1);
    });

    const shutdown = async () => {
        for (const transport of sessions.values()) await transport.close().catch(() => {});
        httpServer.close(() => process.exit(0));
        httpServer.closeAllConnections?.();
        setTimeout(() => process.exit(0), 1000).unref();
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
}

async function serveStdio({ profile }) {
    const server = buildServer(profile);
    const transport = new StdioServerTransport();
    // The client ends a stdio session by closing our stdin; exit then, as the MCP stdio transport asks.
    process.stdin.on('end', () => {
        server.close().finally(() => process.exit(0));
    });
    await server.connect(transport);
    console.error(`peer (${profile}) serving on stdio`);
}

const opts = parseArgs(process.argv.slice(2));
if (opts.stdio) await serveStdio(opts);
else await serveHttp(opts);
