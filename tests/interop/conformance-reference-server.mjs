#!/usr/bin/env node
// Reference MCP server carrying every fixture of the official conformance suite
// (@modelcontextprotocol/conformance 0.1.16, `conformance server --suite all`).
//
// Built only from the TypeScript SDK (McpServer + StreamableHTTPServerTransport on express,
// one stateful session per initialize). It is the peer deputy's C++ server is compared with,
// and the proof of docs/conformance-fixtures.md.
//
//   node conformance-reference-server.mjs [--host 127.0.0.1] [--port 0]     (or PORT=0)
//
// Prints `listening on http://HOST:PORT/mcp` on stderr once it accepts connections.

import { randomUUID } from 'node:crypto';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import {
    LATEST_PROTOCOL_VERSION,
    ListToolsRequestSchema,
    SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

// ---- command line ------------------------------------------------------------------------------

function option(name, fallback) {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const HOST = option('host', process.env.HOST ?? '127.0.0.1');
const PORT = Number(option('port', process.env.PORT ?? '0'));

// ---- fixture data (names and texts the suite looks for) ----------------------------------------

// A 1x1 RGBA PNG, and a 44-byte WAV header (PCM, mono, 8 kHz, 16 bit) whose 2 declared data bytes
// are absent; nothing checks the bytes. The same strings as the upstream everything-server.
const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV_MINIMAL = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';

// SEP-1613: listed verbatim; the SDK would turn a zod schema into draft-07.
const JSON_SCHEMA_2020_12_TOOL = 'json_schema_2020_12_tool';
const JSON_SCHEMA_2020_12_INPUT = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    $defs: {
        address: {
            type: 'object',
            properties: { street: { type: 'string' }, city: { type: 'string' } },
        },
    },
    properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
    additionalProperties: false,
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (t) => ({ type: 'text', text: t });

// ---- one McpServer per session -----------------------------------------------------------------

function createServer() {
    const server = new McpServer(
        { name: 'deputy-conformance-reference', version: '1.0.0' },
        {
            capabilities: {
                tools: { listChanged: true },
                resources: { subscribe: true, listChanged: true },
                prompts: { listChanged: true },
                logging: {},
                completions: {},
            },
        },
    );

    // -- tools: content kinds
    server.registerTool('test_simple_text', { description: 'Returns simple text content' }, async () => ({
        content: [text('This is a simple text response for testing.')],
    }));
    server.registerTool('test_image_content', { description: 'Returns image content' }, async () => ({
        content: [{ type: 'image', data: PNG_1X1, mimeType: 'image/png' }],
    }));
    server.registerTool('test_audio_content', { description: 'Returns audio content' }, async () => ({
        content: [{ type: 'audio', data: WAV_MINIMAL, mimeType: 'audio/wav' }],
    }));
    server.registerTool('test_embedded_resource', { description: 'Returns an embedded resource' }, async () => ({
        content: [
            {
                type: 'resource',
                resource: {
                    uri: 'test://embedded-resource',
                    mimeType: 'text/plain',
                    text: 'This is an embedded resource content.',
                },
            },
        ],
    }));
    server.registerTool(
        'test_multiple_content_types',
        { description: 'Returns text, image and resource content' },
        async () => ({
            content: [
                text('Multiple content types test:'),
                { type: 'image', data: PNG_1X1, mimeType: 'image/png' },
                {
                    type: 'resource',
                    resource: {
                        uri: 'test://mixed-content-resource',
                        mimeType: 'application/json',
                        text: JSON.stringify({ test: 'data', value: 123 }),
                    },
                },
            ],
        }),
    );
    // A thrown error becomes {isError: true, content: [{type: text, text: message}]} in McpServer.
    server.registerTool('test_error_handling', { description: 'Always fails' }, async () => {
        throw new Error('This tool intentionally returns an error for testing');
    });

    // -- tools: notifications during the call (sent on the request's own SSE stream)
    server.registerTool(
        'test_tool_with_logging',
        { description: 'Sends three log messages while running', inputSchema: {} },
        async (_args, extra) => {
            const log = (data) =>
                extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data } });
            await log('Tool execution started');
            await sleep(50);
            await log('Tool processing data');
            await sleep(50);
            await log('Tool execution completed');
            return { content: [text('Tool with logging executed successfully')] };
        },
    );
    server.registerTool(
        'test_tool_with_progress',
        { description: 'Reports progress 0, 50, 100 of 100', inputSchema: {} },
        async (_args, extra) => {
            const progressToken = extra._meta?.progressToken;
            for (const progress of [0, 50, 100]) {
                if (progressToken !== undefined) {
                    await extra.sendNotification({
                        method: 'notifications/progress',
                        params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` },
                    });
                }
                if (progress < 100) await sleep(50);
            }
            return { content: [text(`Progress test completed (token ${JSON.stringify(progressToken ?? null)})`)] };
        },
    );

    // -- tools: requests to the client (sampling, elicitation), related to the tools/call
    server.registerTool(
        'test_sampling',
        {
            description: 'Asks the client to sample an LLM',
            inputSchema: { prompt: z.string().describe('The prompt to send to the LLM') },
        },
        async ({ prompt }, extra) => {
            const result = await server.server.createMessage(
                { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 },
                { relatedRequestId: extra.requestId },
            );
            const content = Array.isArray(result.content) ? result.content[0] : result.content;
            return {
                content: [text(`LLM response: ${content?.type === 'text' ? content.text : JSON.stringify(content)}`)],
            };
        },
    );

    async function elicit(extra, message, requestedSchema) {
        const result = await server.server.elicitInput(
            { mode: 'form', message, requestedSchema },
            { relatedRequestId: extra.requestId },
        );
        return `action=${result.action}, content=${JSON.stringify(result.content ?? {})}`;
    }
    server.registerTool(
        'test_elicitation',
        {
            description: 'Asks the user for input',
            inputSchema: { message: z.string().describe('The message to show the user') },
        },
        async ({ message }, extra) => ({
            content: [
                text(
                    `User response: ${await elicit(extra, message, {
                        type: 'object',
                        properties: {
                            username: { type: 'string', description: "User's response" },
                            email: { type: 'string', description: "User's email address" },
                        },
                        required: ['username', 'email'],
                    })}`,
                ),
            ],
        }),
    );
    server.registerTool(
        'test_elicitation_sep1034_defaults',
        { description: 'Elicitation whose fields carry defaults (SEP-1034)', inputSchema: {} },
        async (_args, extra) => ({
            content: [
                text(
                    `Elicitation completed: ${await elicit(
                        extra,
                        'Please review and update the form fields with defaults',
                        {
                            type: 'object',
                            properties: {
                                name: { type: 'string', description: 'User name', default: 'John Doe' },
                                age: { type: 'integer', description: 'User age', default: 30 },
                                score: { type: 'number', description: 'User score', default: 95.5 },
                                status: {
                                    type: 'string',
                                    description: 'User status',
                                    enum: ['active', 'inactive', 'pending'],
                                    default: 'active',
                                },
                                verified: { type: 'boolean', description: 'Verification status', default: true },
                            },
                            required: [],
                        },
                    )}`,
                ),
            ],
        }),
    );
    server.registerTool(
        'test_elicitation_sep1330_enums',
        { description: 'Elicitation with the five enum shapes (SEP-1330)', inputSchema: {} },
        async (_args, extra) => ({
            content: [
                text(
                    `Elicitation completed: ${await elicit(extra, 'Please select options from the enum fields', {
                        type: 'object',
                        properties: {
                            untitledSingle: {
                                type: 'string',
                                description: 'Select one option',
                                enum: ['option1', 'option2', 'option3'],
                            },
                            titledSingle: {
                                type: 'string',
                                description: 'Select one option with titles',
                                oneOf: [
                                    { const: 'value1', title: 'First Option' },
                                    { const: 'value2', title: 'Second Option' },
                                    { const: 'value3', title: 'Third Option' },
                                ],
                            },
                            legacyEnum: {
                                type: 'string',
                                description: 'Select one option (legacy)',
                                enum: ['opt1', 'opt2', 'opt3'],
                                enumNames: ['Option One', 'Option Two', 'Option Three'],
                            },
                            untitledMulti: {
                                type: 'array',
                                description: 'Select multiple options',
                                minItems: 1,
                                maxItems: 3,
                                items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
                            },
                            titledMulti: {
                                type: 'array',
                                description: 'Select multiple options with titles',
                                minItems: 1,
                                maxItems: 3,
                                items: {
                                    anyOf: [
                                        { const: 'value1', title: 'First Choice' },
                                        { const: 'value2', title: 'Second Choice' },
                                        { const: 'value3', title: 'Third Choice' },
                                    ],
                                },
                            },
                        },
                        required: [],
                    })}`,
                ),
            ],
        }),
    );

    // -- tools: SEP-1613 schema preservation (listed verbatim, see the tools/list wrapper below)
    server.registerTool(
        JSON_SCHEMA_2020_12_TOOL,
        {
            description: 'Tool with JSON Schema 2020-12 features',
            inputSchema: {
                name: z.string().optional(),
                address: z.object({ street: z.string().optional(), city: z.string().optional() }).optional(),
            },
        },
        async (args) => ({ content: [text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`)] }),
    );

    // -- tools: SEP-1699 polling. Closes the request's SSE stream (after the priming event) and
    // answers later; the client gets the answer by GET with Last-Event-ID from the event store.
    // The SDK offers closeSSEStream only to resumable streams (see useSessionProtocolVersion below).
    server.registerTool(
        'test_reconnection',
        { description: 'Closes the SSE stream mid-call and answers after the client reconnects', inputSchema: {} },
        async (_args, extra) => {
            extra.closeSSEStream?.();
            await sleep(100);
            return { content: [text('Reconnection test completed successfully')] };
        },
    );

    // tools/list: the SDK's listing, with the SEP-1613 tool's schema replaced by the raw one.
    const sdkListTools = server.server._requestHandlers.get('tools/list');
    server.server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
        const listed = await sdkListTools(request, extra);
        for (const tool of listed.tools) {
            if (tool.name === JSON_SCHEMA_2020_12_TOOL) tool.inputSchema = JSON_SCHEMA_2020_12_INPUT;
        }
        return listed;
    });

    // -- resources
    server.registerResource(
        'static-text',
        'test://static-text',
        { description: 'A static text resource', mimeType: 'text/plain' },
        async (uri) => ({
            contents: [
                { uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' },
            ],
        }),
    );
    server.registerResource(
        'static-binary',
        'test://static-binary',
        { description: 'A static binary resource (PNG)', mimeType: 'image/png' },
        async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: PNG_1X1 }] }),
    );
    server.registerResource(
        'watched-resource',
        'test://watched-resource',
        { description: 'A resource clients may subscribe to', mimeType: 'text/plain' },
        async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Watched resource content' }] }),
    );
    server.registerResource(
        'template',
        new ResourceTemplate('test://template/{id}/data', { list: undefined }),
        { description: 'A resource template with parameter substitution', mimeType: 'application/json' },
        async (uri, { id }) => ({
            contents: [
                {
                    uri: uri.href,
                    mimeType: 'application/json',
                    text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
                },
            ],
        }),
    );
    const subscriptions = new Set();
    server.server.setRequestHandler(
        z.object({ method: z.literal('resources/subscribe'), params: z.object({ uri: z.string() }).passthrough() }),
        async (request) => {
            subscriptions.add(request.params.uri);
            return {};
        },
    );
    server.server.setRequestHandler(
        z.object({ method: z.literal('resources/unsubscribe'), params: z.object({ uri: z.string() }).passthrough() }),
        async (request) => {
            subscriptions.delete(request.params.uri);
            return {};
        },
    );

    // -- prompts
    server.registerPrompt('test_simple_prompt', { description: 'A prompt without arguments' }, async () => ({
        messages: [{ role: 'user', content: text('This is a simple prompt for testing.') }],
    }));
    server.registerPrompt(
        'test_prompt_with_arguments',
        {
            description: 'A prompt with two required arguments',
            argsSchema: {
                // completion/complete on ref/prompt test_prompt_with_arguments, argument arg1
                arg1: completable(z.string().describe('First test argument'), (value) =>
                    ['paris', 'park', 'party', 'test', 'testing'].filter((v) => v.startsWith(value ?? '')),
                ),
                arg2: z.string().describe('Second test argument'),
            },
        },
        async ({ arg1, arg2 }) => ({
            messages: [{ role: 'user', content: text(`Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`) }],
        }),
    );
    server.registerPrompt(
        'test_prompt_with_embedded_resource',
        {
            description: 'A prompt that embeds a resource',
            argsSchema: { resourceUri: z.string().describe('URI of the resource to embed') },
        },
        async ({ resourceUri }) => ({
            messages: [
                {
                    role: 'user',
                    content: {
                        type: 'resource',
                        resource: {
                            uri: resourceUri,
                            mimeType: 'text/plain',
                            text: 'Embedded resource content for testing.',
                        },
                    },
                },
                { role: 'user', content: text('Please process the embedded resource above.') },
            ],
        }),
    );
    server.registerPrompt('test_prompt_with_image', { description: 'A prompt with an image' }, async () => ({
        messages: [
            { role: 'user', content: { type: 'image', data: PNG_1X1, mimeType: 'image/png' } },
            { role: 'user', content: text('Please analyze the image above.') },
        ],
    }));

    return server;
}

// ---- event store: lets a client resume a closed SSE stream with Last-Event-ID ------------------

function createEventStore() {
    const events = []; // { eventId, streamId, message }, in send order
    return {
        async storeEvent(streamId, message) {
            const eventId = `${streamId}_${events.length}`;
            events.push({ eventId, streamId, message });
            return eventId;
        },
        async getStreamIdForEventId(eventId) {
            return events.find((e) => e.eventId === eventId)?.streamId;
        },
        async replayEventsAfter(lastEventId, { send }) {
            const at = events.findIndex((e) => e.eventId === lastEventId);
            if (at < 0) return '';
            const { streamId } = events[at];
            for (const e of events.slice(at + 1)) {
                if (e.streamId === streamId && Object.keys(e.message).length > 0) await send(e.eventId, e.message);
            }
            return streamId;
        },
    };
}

// ---- HTTP: stateful Streamable HTTP on /mcp ----------------------------------------------------

// createMcpExpressApp answers 403 to a Host that is not localhost/127.0.0.1/[::1] (DNS rebinding).
const app = createMcpExpressApp({ host: HOST });
const sessions = new Map(); // Mcp-Session-Id -> { transport, protocolVersion }

const jsonRpcError = (res, status, code, message) =>
    res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });

// The SDK decides SSE resumability (priming event with id + retry, closeSSEStream) from each
// request's MCP-Protocol-Version header. The suite's SSE scenarios send `2025-03-26` on a session
// that negotiated 2025-11-25, so the SDK would answer them without a priming event. deputy decides
// from the version the session negotiated; to behave the same, a supported but older header on a
// session is read as the session's version. An unsupported header is left alone (answered 400).
function useSessionProtocolVersion(req, session) {
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
        if (
            raw[i].toLowerCase() === 'mcp-protocol-version' &&
            SUPPORTED_PROTOCOL_VERSIONS.includes(raw[i + 1]) &&
            raw[i + 1] < session.protocolVersion
        ) {
            raw[i + 1] = session.protocolVersion;
        }
    }
}

function sessionFor(req, res) {
    const id = req.headers['mcp-session-id'];
    const session = id && sessions.get(id);
    if (session) {
        useSessionProtocolVersion(req, session);
        return session;
    }
    if (id) jsonRpcError(res, 404, -32001, 'Session not found');
    else jsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    return undefined;
}

app.post('/mcp', async (req, res) => {
    if (req.headers['mcp-session-id'] || req.body?.method !== 'initialize') {
        const session = sessionFor(req, res);
        if (session) await session.transport.handleRequest(req, res, req.body);
        return;
    }
    const requested = req.body.params?.protocolVersion;
    const protocolVersion = SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
    const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        eventStore: createEventStore(),
        retryInterval: 500,
        onsessioninitialized: (id) => sessions.set(id, { transport, protocolVersion }),
    });
    transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await createServer().connect(transport);
    await transport.handleRequest(req, res, req.body);
});

// GET opens the session's standalone SSE stream (or resumes one with Last-Event-ID); DELETE ends it.
for (const method of ['get', 'delete']) {
    app[method]('/mcp', async (req, res) => {
        const session = sessionFor(req, res);
        if (session) await session.transport.handleRequest(req, res);
    });
}

const listener = app.listen(PORT, HOST, () => {
    const { port } = listener.address();
    const host = HOST.includes(':') ? `[${HOST}]` : HOST;
    process.stderr.write(`listening on http://${host}:${port}/mcp\n`);
});
listener.on('error', (error) => {
    process.stderr.write(`cannot listen on ${HOST}:${PORT}: ${error.message}\n`);
    process.exit(1);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
        for (const { transport } of sessions.values()) transport.close().catch(() => {});
        listener.close();
        process.exit(0);
    });
}
