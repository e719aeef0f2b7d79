// deputy's example servers driven over Streamable HTTP by the official TypeScript SDK client
// (Client + StreamableHTTPClientTransport, @modelcontextprotocol/sdk as pinned in package.json).
//
//   DEPUTY_BUILD_DIR=/path/to/build node --test sdk-client-http.test.mjs   # deputy's servers
//   INTEROP_PEER=1 node --test sdk-client-http.test.mjs                     # the TypeScript peer, to check the tests
//
// Each suite spawns its own server on 127.0.0.1 with an ephemeral port and stops it afterwards.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
    ElicitRequestSchema,
    ErrorCode,
    LATEST_PROTOCOL_VERSION,
    ToolListChangedNotificationSchema,
    McpError,
    SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import { serverCommand, startHttpServer, sleep, within } from './lib/spawn-server.mjs';

// ---- Fixtures of the servers under test: adjust here when they move. -----------------------------------------------
const F = {
    // hello-server
    echoTool: 'echo',
    echoArg: 'message',
    // everything-server (MCP conformance fixtures, plus test_cancellable)
    simpleTextTool: 'test_simple_text',
    simpleText: 'This is a simple text response for testing.',
    progressTool: 'test_tool_with_progress',
    progressExpected: [
        { progress: 0, total: 100 },
        { progress: 50, total: 100 },
        { progress: 100, total: 100 },
    ],
    elicitationTool: 'test_elicitation',
    elicitationArgs: { message: 'Please provide your information' },
    elicitationAnswer: { username: 'testuser', email: 'test@example.com' },
    cancellableTool: 'test_cancellable',
    toggleTool: 'toggle_dynamic_tool',
    dynamicTool: 'dynamic_echo',
    prompt: 'test_simple_prompt',
    promptText: 'This is a simple prompt for testing.',
    resourceUri: 'test://static-text',
    resourceMimeType: 'text/plain',
    resourceText: 'This is the content of the static text resource.',
    // The SDK client asks for LATEST_PROTOCOL_VERSION; a server that knows it must answer with it.
    expectedProtocolVersion: LATEST_PROTOCOL_VERSION,
};

// ---- Limits of these tests. ---------------------------------------------------------------------------------------
const kTestTimeoutMs = 20_000;
// How soon a cancelled call must reject, and how soon the server must answer the next call afterwards.
const kCancelSettleMs = 3_000;
// How long a cancellable call is left running before it is cancelled, so the request surely reached the server.
const kCancelAfterMs = 300;
// Progress for a cancelled request is tolerated this long after the abort (it may already be on its way); any
// later progress means the work did not stop. Only a server whose cancellable tool reports progress while it
// waits (the peer's does) is checked this way; the SDK client offers no other view of whether the work stopped.
const kCancelGraceMs = 500;
const kCancelQuietMs = 1_000;
// Concurrency: this many clients (each its own session) making this many concurrent calls each.
const kClients = 20;
const kCallsPerClient = 20;
const kConcurrencyTimeoutMs = 60_000;

const kClientInfo = { name: 'deputy-interop-http', version: '1.0.0' };

// ---- Helpers. -----------------------------------------------------------------------------------------------------

/** A fetch that records every exchange the SDK transport makes (request line, headers, status, content type). */
function recordingFetch(log) {
    return async (url, init = {}) => {
        const headers = new Headers(init.headers);
        const entry = {
            method: init.method ?? 'GET',
            requestHeaders: Object.fromEntries(headers.entries()),
            body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
        };
        log.push(entry);
        const response = await fetch(url, init);
        entry.status = response.status;
        entry.contentType = response.headers.get('content-type');
        entry.sessionId = response.headers.get('mcp-session-id');
        return response;
    };
}

/** A StreamableHTTPClientTransport that records the messages it sends and receives, in wire order. */
class RecordingHttpTransport extends StreamableHTTPClientTransport {
    sent = [];
    received = [];
    #deliver;
    // Protocol.connect() reads onmessage before it sets it (to chain a previous handler): the getter must give
    // back exactly what was set, or the chain calls itself.
    set onmessage(deliver) {
        this.#deliver = deliver && ((message, extra) => (this.received.push(message), deliver(message, extra)));
    }
    get onmessage() {
        return this.#deliver;
    }
    send(message, options) {
        this.sent.push(message);
        return super.send(message, options);
    }
}

/**
 * The messages of one request as the transport received them: 'progress <n>/<total>' for its progress
 * notifications (those echoing its progressToken exactly), then 'result' or 'error'.
 */
function wireStory(transport, request) {
    const token = request.params?._meta?.progressToken;
    return transport.received
        .filter(
            (m) =>
                (m.method === 'notifications/progress' && m.params?.progressToken === token) ||
                (m.method === undefined && m.id === request.id)
        )
        .map((m) => (m.method ? `progress ${m.params.progress}/${m.params.total}` : 'result' in m ? 'result' : 'error'));
}

/** Connects a fresh SDK client (one session). Errors the client reports out of band are kept in `errors`. */
async function connect(server, { capabilities, fetch: fetchFn, sessionId, initialize = true } = {}) {
    const client = new Client(kClientInfo, capabilities ? { capabilities } : undefined);
    const errors = []; // {at, message}
    client.onerror = (err) => errors.push({ at: Date.now(), message: String(err?.message ?? err) });
    const transport = new RecordingHttpTransport(server.url, { fetch: fetchFn, sessionId });
    if (initialize) await client.connect(transport);
    return { client, transport, errors };
}

function textOf(result) {
    assert.ok(Array.isArray(result.content), `result has no content array: ${JSON.stringify(result)}`);
    const texts = result.content.filter((c) => c.type === 'text').map((c) => c.text);
    assert.ok(texts.length > 0, `result has no text content: ${JSON.stringify(result)}`);
    return texts.join('\n');
}

/**
 * A tool call that must fail: either as a JSON-RPC error with code -32602 (McpError) or as a tool result with
 * isError. Either way the message must mention `mention`.
 */
async function expectToolFailure(promise, mention) {
    let result;
    try {
        result = await promise;
    } catch (err) {
        assert.ok(err instanceof McpError, `expected an McpError, got ${err?.constructor?.name}: ${err?.message}`);
        assert.equal(err.code, ErrorCode.InvalidParams, `expected -32602, got ${err.code}: ${err.message}`);
        assert.match(err.message, new RegExp(mention), `error does not mention '${mention}': ${err.message}`);
        return { kind: 'json-rpc error', code: err.code, message: err.message };
    }
    assert.equal(result.isError, true, `call succeeded but should have failed: ${JSON.stringify(result)}`);
    const text = textOf(result);
    assert.match(text, new RegExp(mention), `tool error does not mention '${mention}': ${text}`);
    return { kind: 'isError result', message: text };
}

/**
 * Progress notifications the client received for requests it no longer knows (it forgets a request when it
 * cancels it) more than kCancelGraceMs after the latest cancellation before them.
 */
function lateProgressAfterCancel(errors, abortTimes) {
    return errors.filter((e) => {
        if (!/progress notification for an unknown token/.test(e.message)) return false;
        const lastAbort = Math.max(...abortTimes.filter((t) => t <= e.at));
        return e.at - lastAbort > kCancelGraceMs;
    });
}

/** Wraps a test body so a failure shows the tail of the server's stderr. */
function withServerLog(getServer, body) {
    return async (t) => {
        try {
            await body(t);
        } catch (err) {
            const server = getServer();
            if (server && err && typeof err === 'object') {
                const tail = server.stderr().split('\n').slice(-40).join('\n');
                err.message = `${err.message}\n--- server stderr (tail) ---\n${tail}`;
            }
            throw err;
        }
    };
}

// A missing server is a failure with a message saying what to set, never a skip. (A failing before() hook alone
// only shows the suite's tests as cancelled; this makes it count in "# fail".)
it('the servers under test are there', () => {
    serverCommand('hello');
    serverCommand('everything');
});

// ---- hello-server. ------------------------------------------------------------------------------------------------

describe('hello-server over Streamable HTTP (SDK client)', () => {
    let server;
    const open = [];
    const test = (name, body, opts = {}) =>
        it(name, { timeout: kTestTimeoutMs, ...opts }, withServerLog(() => server, body));
    const track = (c) => (open.push(c), c);

    before(async () => {
        server = await startHttpServer('hello');
    });
    after(async () => {
        await Promise.allSettled(open.map(({ client }) => client.close()));
        await server?.stop();
    });

    test('initialize: serverInfo, negotiated protocol version, capabilities, session id', async () => {
        const { client, transport } = track(await connect(server));
        const info = client.getServerVersion();
        assert.equal(typeof info?.name, 'string');
        assert.ok(info.name.length > 0, 'serverInfo.name is empty');
        assert.equal(typeof info.version, 'string');
        assert.ok(SUPPORTED_PROTOCOL_VERSIONS.includes(transport.protocolVersion), `negotiated ${transport.protocolVersion}`);
        assert.equal(transport.protocolVersion, F.expectedProtocolVersion);
        const caps = client.getServerCapabilities();
        assert.equal(typeof caps?.tools, 'object', `no tools capability: ${JSON.stringify(caps)}`);
        // Stateful server: the session id is visible ASCII (spec: 0x21..0x7E).
        assert.match(transport.sessionId ?? '', /^[\x21-\x7E]+$/, `bad Mcp-Session-Id '${transport.sessionId}'`);
    });

    test('wire: what the SDK client sends and what it needs back', async () => {
        const log = [];
        const { client, transport } = track(await connect(server, { fetch: recordingFetch(log) }));
        await client.listTools();
        await sleep(200); // the client opens its GET stream without awaiting it

        const [init, initialized] = log;
        assert.equal(init.method, 'POST');
        assert.equal(init.body.method, 'initialize');
        assert.equal(init.body.params.protocolVersion, LATEST_PROTOCOL_VERSION);
        assert.equal(init.requestHeaders['mcp-session-id'], undefined, 'initialize must go without a session id');
        assert.equal(init.requestHeaders['mcp-protocol-version'], undefined);
        assert.equal(init.requestHeaders['accept'], 'application/json, text/event-stream');
        assert.equal(init.requestHeaders['content-type'], 'application/json');
        assert.equal(init.status, 200);
        assert.match(init.contentType ?? '', /^(application\/json|text\/event-stream)\b/);
        assert.equal(init.sessionId, transport.sessionId, 'initialize answer must carry Mcp-Session-Id');

        assert.equal(initialized.body.method, 'notifications/initialized');
        assert.equal(initialized.status, 202, 'a notification is answered 202 Accepted');
        assert.equal(initialized.requestHeaders['mcp-session-id'], transport.sessionId);
        assert.equal(initialized.requestHeaders['mcp-protocol-version'], transport.protocolVersion);

        const list = log.find((e) => e.body?.method === 'tools/list');
        assert.equal(list.status, 200);
        assert.equal(list.requestHeaders['mcp-session-id'], transport.sessionId);
        assert.equal(list.requestHeaders['mcp-protocol-version'], transport.protocolVersion);

        // After notifications/initialized the client opens the standalone SSE stream; 405 means "not offered".
        const get = log.find((e) => e.method === 'GET');
        assert.ok(get, 'the SDK client opens GET /mcp after initialization');
        assert.equal(get.requestHeaders['accept'], 'text/event-stream');
        assert.equal(get.requestHeaders['mcp-session-id'], transport.sessionId);
        assert.ok(
            (get.status === 200 && /^text\/event-stream\b/.test(get.contentType ?? '')) || get.status === 405,
            `GET /mcp answered ${get.status} ${get.contentType}`
        );
    });

    test('tools/list: exactly echo, with its input schema', async () => {
        const { client } = track(await connect(server));
        const { tools } = await client.listTools();
        assert.deepEqual(
            tools.map((t) => t.name),
            [F.echoTool]
        );
        const schema = tools[0].inputSchema;
        assert.equal(schema.type, 'object');
        assert.equal(schema.properties?.[F.echoArg]?.type, 'string', `inputSchema: ${JSON.stringify(schema)}`);
        assert.deepEqual(schema.required, [F.echoArg]);
    });

    test('tools/call echo returns the message', async () => {
        const { client } = track(await connect(server));
        for (const message of ['hello', '', 'héllo wörld ✓ 🚀', 'line1\nline2 "quoted" \\ back\tslash', 'x'.repeat(10_000)]) {
            const result = await client.callTool({ name: F.echoTool, arguments: { [F.echoArg]: message } });
            assert.ok(!result.isError, `isError for ${JSON.stringify(message.slice(0, 40))}`);
            assert.deepEqual(result.content, [{ type: 'text', text: message }]);
        }
    });

    test('tools/call echo with invalid arguments fails and names the argument', async () => {
        const { client } = track(await connect(server));
        await expectToolFailure(client.callTool({ name: F.echoTool, arguments: {} }), F.echoArg);
        await expectToolFailure(client.callTool({ name: F.echoTool, arguments: { [F.echoArg]: 42 } }), F.echoArg);
        // The session is still fine afterwards.
        const ok = await client.callTool({ name: F.echoTool, arguments: { [F.echoArg]: 'still here' } });
        assert.equal(textOf(ok), 'still here');
    });

    test('tools/call of an unknown tool fails and names the tool', async () => {
        const { client } = track(await connect(server));
        await expectToolFailure(client.callTool({ name: 'no_such_tool', arguments: {} }), 'no_such_tool');
    });

    test('ping', async () => {
        const { client } = track(await connect(server));
        assert.deepEqual(await client.ping(), {});
    });

    test('DELETE ends the session; the old session id then gets 404', async () => {
        const { client, transport } = await connect(server);
        const sessionId = transport.sessionId;
        const protocolVersion = transport.protocolVersion;
        assert.ok(sessionId);
        await transport.terminateSession(); // throws on anything but 2xx or 405
        assert.equal(transport.sessionId, undefined);
        await client.close();

        // Raw: a POST naming the ended session.
        const response = await fetch(server.url, {
            method: 'POST',
            headers: {
                'content-type': 'application/json',
                accept: 'application/json, text/event-stream',
                'mcp-session-id': sessionId,
                'mcp-protocol-version': protocolVersion,
            },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
        await response.body?.cancel();
        assert.equal(response.status, 404, `POST with an ended session id answered ${response.status}`);

        // Through the SDK: a transport resuming the old session id (connect() skips initialize when it has one).
        const stale = await connect(server, { sessionId, initialize: false });
        await stale.client.connect(stale.transport);
        await assert.rejects(stale.client.listTools(), (err) => {
            assert.ok(err instanceof StreamableHTTPError, `got ${err?.constructor?.name}: ${err?.message}`);
            assert.equal(err.code, 404);
            return true;
        });
        await stale.client.close();
    });

    test(
        `${kClients} clients x ${kCallsPerClient} concurrent calls all get their own answers`,
        async () => {
            const clients = await Promise.all(Array.from({ length: kClients }, () => connect(server)));
            clients.forEach(track);
            const sessionIds = new Set(clients.map((c) => c.transport.sessionId));
            assert.equal(sessionIds.size, kClients, 'every client gets its own session');
            let answered = 0;
            await Promise.all(
                clients.map(async ({ client }, i) => {
                    const calls = Array.from({ length: kCallsPerClient }, async (_, j) => {
                        const message = `client ${i} call ${j} ${Math.random().toString(36).slice(2)}`;
                        const result = await client.callTool({ name: F.echoTool, arguments: { [F.echoArg]: message } });
                        assert.ok(!result.isError);
                        assert.equal(textOf(result), message);
                        answered++;
                    });
                    await Promise.all(calls);
                })
            );
            assert.equal(answered, kClients * kCallsPerClient);
            for (const { errors } of clients) {
                const relevant = errors.filter((e) => /unknown (message ID|token)/i.test(e.message));
                assert.deepEqual(relevant, [], 'no answer went to the wrong request');
            }
        },
        { timeout: kConcurrencyTimeoutMs }
    );
});

// ---- everything-server. -------------------------------------------------------------------------------------------

describe('everything-server over Streamable HTTP (SDK client)', () => {
    let server;
    const open = [];
    const test = (name, body, opts = {}) =>
        it(name, { timeout: kTestTimeoutMs, ...opts }, withServerLog(() => server, body));
    const track = (c) => (open.push(c), c);

    before(async () => {
        server = await startHttpServer('everything');
    });
    after(async () => {
        await Promise.allSettled(open.map(({ client }) => client.close()));
        await server?.stop();
    });

    test('initialize: tools, prompts and resources capabilities', async () => {
        const { client, transport } = track(await connect(server));
        const caps = client.getServerCapabilities();
        for (const cap of ['tools', 'prompts', 'resources']) {
            assert.equal(typeof caps?.[cap], 'object', `no ${cap} capability: ${JSON.stringify(caps)}`);
        }
        assert.equal(transport.protocolVersion, F.expectedProtocolVersion);
    });

    test('tools/list_changed reaches the client on the standalone stream when a tool comes and goes', async () => {
        const { client } = track(await connect(server));
        const changes = [];
        client.setNotificationHandler(ToolListChangedNotificationSchema, () => changes.push(Date.now()));
        // The SDK opens the standalone GET stream shortly after initializing: toggle (boundedly) until a
        // notification arrives on it.
        for (let attempt = 0; attempt < 50 && changes.length === 0; ++attempt) {
            const added = textOf(await client.callTool({ name: F.toggleTool, arguments: {} }));
            const names = (await client.listTools()).tools.map((t) => t.name);
            assert.equal(names.includes(F.dynamicTool), added.includes('added'), `${added}: ${JSON.stringify(names)}`);
            await sleep(50);
        }
        assert.ok(changes.length > 0, 'no notifications/tools/list_changed arrived');
    });

    test('tools/list holds the fixtures', async () => {
        const { client } = track(await connect(server));
        const names = (await client.listTools()).tools.map((t) => t.name);
        for (const name of [F.simpleTextTool, F.progressTool, F.elicitationTool, F.cancellableTool]) {
            assert.ok(names.includes(name), `${name} missing from ${JSON.stringify(names)}`);
        }
    });

    test('tools/call test_simple_text', async () => {
        const { client } = track(await connect(server));
        const result = await client.callTool({ name: F.simpleTextTool, arguments: {} });
        assert.ok(!result.isError);
        assert.equal(textOf(result), F.simpleText);
    });

    test('progress notifications reach onprogress in order, before the result', async () => {
        const { client, transport, errors } = track(await connect(server));
        const seen = [];
        const result = await client.callTool({ name: F.progressTool, arguments: {} }, undefined, {
            onprogress: (p) => seen.push(p),
        });
        assert.ok(!result.isError, JSON.stringify(result));
        // What the server sent, in order: every notification echoes the token, all come before the result.
        const request = transport.sent.find((m) => m.method === 'tools/call' && m.params?.name === F.progressTool);
        assert.deepEqual(wireStory(transport, request), [
            ...F.progressExpected.map(({ progress, total }) => `progress ${progress}/${total}`),
            'result',
        ]);
        // What onprogress got. Over HTTP the SDK client hands each SSE event over after the previous one's
        // handlers ran, so nothing is lost when the notifications travel on the call's own SSE stream.
        assert.deepEqual(
            seen.map(({ progress, total }) => ({ progress, total })),
            F.progressExpected
        );
        // A notification that arrives after the response is dropped by the SDK with this error.
        assert.deepEqual(
            errors.filter((e) => /progress notification for an unknown token/.test(e.message)),
            []
        );
    });

    test('cancellation: the aborted call rejects promptly, the work stops, the server keeps serving', async () => {
        const { client, errors } = track(await connect(server));
        const abortTimes = [];
        for (let round = 0; round < 2; round++) {
            const controller = new AbortController();
            const outcome = client
                .callTool({ name: F.cancellableTool, arguments: {} }, undefined, {
                    signal: controller.signal,
                    onprogress: () => {}, // invites heartbeats; see lateProgressAfterCancel()
                })
                .then(
                    (r) => ({ resolved: r }),
                    (e) => ({ rejected: e })
                );
            await sleep(kCancelAfterMs);
            abortTimes.push(Date.now());
            controller.abort('cancelled by the interop test');
            const settled = await within(kCancelSettleMs, outcome, 'the cancelled call');
            assert.ok(settled.rejected, `the cancelled call resolved: ${JSON.stringify(settled.resolved)}`);

            const next = await within(
                kCancelSettleMs,
                client.callTool({ name: F.simpleTextTool, arguments: {} }),
                'the call after the cancellation'
            );
            assert.equal(textOf(next), F.simpleText);
        }
        // A second client is served too.
        const other = track(await connect(server));
        assert.equal(textOf(await other.client.callTool({ name: F.simpleTextTool, arguments: {} })), F.simpleText);

        await sleep(kCancelQuietMs);
        assert.deepEqual(lateProgressAfterCancel(errors, abortTimes), [], 'the cancelled tool kept running');
        assert.deepEqual(
            errors.filter((e) => /Failed to send cancellation|unknown message ID/.test(e.message)),
            [],
            'the cancellation notification was refused, or the cancelled request was answered anyway'
        );
    });

    test('elicitation round trip: the server asks, the client accepts, the tool sees the answer', async () => {
        // The handler goes in before connect(): the capability is declared in initialize.
        const { client, transport } = track(
            await connect(server, { capabilities: { elicitation: { form: {} } }, initialize: false })
        );
        const asked = [];
        client.setRequestHandler(ElicitRequestSchema, async (request) => {
            asked.push(request.params);
            return { action: 'accept', content: F.elicitationAnswer };
        });
        await client.connect(transport);

        const result = await client.callTool({ name: F.elicitationTool, arguments: F.elicitationArgs });
        assert.equal(asked.length, 1, 'exactly one elicitation/create');
        assert.equal(asked[0].message, F.elicitationArgs.message);
        assert.equal(asked[0].requestedSchema?.type, 'object', JSON.stringify(asked[0]));
        assert.ok(!result.isError, `tool failed: ${JSON.stringify(result)}`);
        const text = textOf(result);
        for (const value of Object.values(F.elicitationAnswer)) {
            assert.ok(text.includes(value), `'${value}' missing from the tool's answer: ${text}`);
        }
    });

    test('prompts/list and prompts/get', async () => {
        const { client } = track(await connect(server));
        const { prompts } = await client.listPrompts();
        assert.ok(
            prompts.some((p) => p.name === F.prompt),
            `${F.prompt} missing: ${JSON.stringify(prompts)}`
        );
        const prompt = await client.getPrompt({ name: F.prompt });
        assert.equal(prompt.messages.length, 1);
        assert.equal(prompt.messages[0].role, 'user');
        assert.deepEqual(prompt.messages[0].content, { type: 'text', text: F.promptText });
    });

    test('resources/list and resources/read', async () => {
        const { client } = track(await connect(server));
        const { resources } = await client.listResources();
        const listed = resources.find((r) => r.uri === F.resourceUri);
        assert.ok(listed, `${F.resourceUri} missing: ${JSON.stringify(resources)}`);
        assert.equal(typeof listed.name, 'string');
        const { contents } = await client.readResource({ uri: F.resourceUri });
        assert.equal(contents.length, 1);
        assert.equal(contents[0].uri, F.resourceUri);
        assert.equal(contents[0].mimeType, F.resourceMimeType);
        assert.equal(contents[0].text, F.resourceText);
    });

    test('ping', async () => {
        const { client } = track(await connect(server));
        assert.deepEqual(await client.ping(), {});
    });
});
