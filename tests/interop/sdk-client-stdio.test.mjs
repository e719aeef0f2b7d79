// deputy's example servers driven over stdio by the official TypeScript SDK client
// (Client + StdioClientTransport spawning the server with --stdio).
//
//   DEPUTY_BUILD_DIR=/path/to/build node --test sdk-client-stdio.test.mjs   # deputy's servers
//   INTEROP_PEER=1 node --test sdk-client-stdio.test.mjs                     # the TypeScript peer, to check the tests
//
// Every test spawns its own server process through the SDK transport, which also stops it (close stdin, then
// SIGTERM after 2 s, then SIGKILL after 2 s more).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
    ElicitRequestSchema,
    ErrorCode,
    LATEST_PROTOCOL_VERSION,
    McpError,
    SUPPORTED_PROTOCOL_VERSIONS,
    ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { serverCommand, stdioServerParams, sleep, within } from './lib/spawn-server.mjs';

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
// The SDK closes stdin and sends SIGTERM 2 s later; a server that exits on end of input is gone well before.
const kExitOnEofMs = 1_500;
// Concurrent calls on one stdio connection.
const kConcurrentCalls = 50;

const kClientInfo = { name: 'deputy-interop-stdio', version: '1.0.0' };

// ---- Helpers. -----------------------------------------------------------------------------------------------------

/**
 * A StdioClientTransport that records the messages it sends and receives, in wire order, before the client
 * sees them. StdioClientTransport keeps no protocol version; Client.connect() hands it to any transport that has
 * setProtocolVersion(), so this one records that too.
 */
class RecordingStdioTransport extends StdioClientTransport {
    sent = [];
    received = [];
    #deliver;
    setProtocolVersion(version) {
        this.protocolVersion = version;
    }
    // Protocol.connect() reads onmessage before it sets it (to chain a previous handler): the getter must give
    // back exactly what was set, or the chain calls itself.
    set onmessage(deliver) {
        this.#deliver = deliver && ((message, extra) => (this.received.push(message), deliver(message, extra)));
    }
    get onmessage() {
        return this.#deliver;
    }
    send(message) {
        this.sent.push(message);
        return super.send(message);
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

/** A connected SDK client on a fresh server process. `stderr()` is what the server logged. */
async function connect(kind, { capabilities, beforeConnect } = {}) {
    const transport = new RecordingStdioTransport(stdioServerParams(kind));
    let log = '';
    transport.stderr?.setEncoding('utf8');
    transport.stderr?.on('data', (chunk) => (log = (log + chunk).slice(-64 * 1024)));
    const client = new Client(kClientInfo, capabilities ? { capabilities } : undefined);
    const errors = []; // {at, message}
    client.onerror = (err) => errors.push({ at: Date.now(), message: String(err?.message ?? err) });
    beforeConnect?.(client);
    await client.connect(transport);
    return { client, transport, errors, stderr: () => log };
}

function textOf(result) {
    assert.ok(Array.isArray(result.content), `result has no content array: ${JSON.stringify(result)}`);
    const texts = result.content.filter((c) => c.type === 'text').map((c) => c.text);
    assert.ok(texts.length > 0, `result has no text content: ${JSON.stringify(result)}`);
    return texts.join('\n');
}

/** A tool call that must fail (McpError -32602 or an isError result) with a message mentioning `mention`. */
async function expectToolFailure(promise, mention) {
    let result;
    try {
        result = await promise;
    } catch (err) {
        assert.ok(err instanceof McpError, `expected an McpError, got ${err?.constructor?.name}: ${err?.message}`);
        assert.equal(err.code, ErrorCode.InvalidParams, `expected -32602, got ${err.code}: ${err.message}`);
        assert.match(err.message, new RegExp(mention), `error does not mention '${mention}': ${err.message}`);
        return;
    }
    assert.equal(result.isError, true, `call succeeded but should have failed: ${JSON.stringify(result)}`);
    assert.match(textOf(result), new RegExp(mention));
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

/**
 * Runs `body` with a connected client on a fresh `kind` server and closes it afterwards. A failure shows the tail of
 * the server's stderr. Every test also checks that the client reported no out-of-band error: a line on stdout
 * that is not JSON-RPC, or an answer for a request it does not know, shows up there.
 */
function withServer(kind, body, options = {}) {
    return async () => {
        const conn = await connect(kind, options);
        try {
            await body(conn);
            assert.deepEqual(
                conn.errors.map((e) => e.message),
                [],
                'the client reported errors'
            );
        } catch (err) {
            if (err && typeof err === 'object') {
                const tail = conn.stderr().split('\n').slice(-40).join('\n');
                err.message = `${err.message}\n--- server stderr (tail) ---\n${tail}`;
            }
            throw err;
        } finally {
            await conn.client.close();
        }
    };
}

const test = (name, fn) => it(name, { timeout: kTestTimeoutMs }, fn);

// A missing server is a failure with a message saying what to set, never a skip.
it('the servers under test are there', () => {
    serverCommand('hello');
    serverCommand('everything');
});

// ---- hello-server. ------------------------------------------------------------------------------------------------

describe('hello-server over stdio (SDK client)', () => {
    test(
        'initialize: serverInfo, negotiated protocol version, capabilities',
        withServer('hello', async ({ client, transport }) => {
            const info = client.getServerVersion();
            assert.equal(typeof info?.name, 'string');
            assert.ok(info.name.length > 0, 'serverInfo.name is empty');
            assert.equal(typeof info.version, 'string');
            assert.ok(SUPPORTED_PROTOCOL_VERSIONS.includes(transport.protocolVersion));
            assert.equal(transport.protocolVersion, F.expectedProtocolVersion);
            assert.equal(typeof client.getServerCapabilities()?.tools, 'object');
        })
    );

    test(
        'tools/list: exactly echo, with its input schema',
        withServer('hello', async ({ client }) => {
            const { tools } = await client.listTools();
            assert.deepEqual(
                tools.map((t) => t.name),
                [F.echoTool]
            );
            const schema = tools[0].inputSchema;
            assert.equal(schema.type, 'object');
            assert.equal(schema.properties?.[F.echoArg]?.type, 'string', `inputSchema: ${JSON.stringify(schema)}`);
            assert.deepEqual(schema.required, [F.echoArg]);
        })
    );

    test(
        'tools/call echo returns the message (including newlines, which stdio framing must escape)',
        withServer('hello', async ({ client }) => {
            for (const message of ['hello', '', 'héllo wörld ✓ 🚀', 'line1\nline2\r\n"quoted" \\ \u2028', 'y'.repeat(100_000)]) {
                const result = await client.callTool({ name: F.echoTool, arguments: { [F.echoArg]: message } });
                assert.ok(!result.isError);
                assert.deepEqual(result.content, [{ type: 'text', text: message }]);
            }
        })
    );

    test(
        `${kConcurrentCalls} concurrent calls on one connection each get their own answer`,
        withServer('hello', async ({ client }) => {
            await Promise.all(
                Array.from({ length: kConcurrentCalls }, async (_, i) => {
                    const message = `call ${i}`;
                    const result = await client.callTool({ name: F.echoTool, arguments: { [F.echoArg]: message } });
                    assert.equal(textOf(result), message);
                })
            );
        })
    );

    test(
        'invalid arguments and unknown tools fail',
        withServer('hello', async ({ client }) => {
            await expectToolFailure(client.callTool({ name: F.echoTool, arguments: {} }), F.echoArg);
            await expectToolFailure(client.callTool({ name: 'no_such_tool', arguments: {} }), 'no_such_tool');
            assert.deepEqual(await client.ping(), {});
        })
    );

    test('the server exits by itself when the client closes stdin', async () => {
        const { client } = await connect('hello');
        await client.ping();
        const started = Date.now();
        await client.close(); // ends stdin; waits for exit, else SIGTERM after 2 s
        const took = Date.now() - started;
        assert.ok(took < kExitOnEofMs, `the server took ${took} ms to exit after end of input`);
    });
});

// ---- everything-server. -------------------------------------------------------------------------------------------

describe('everything-server over stdio (SDK client)', () => {
    test(
        'tools/list_changed reaches the client when a tool comes and goes',
        withServer('everything', async ({ client }) => {
            const changes = [];
            client.setNotificationHandler(ToolListChangedNotificationSchema, () => changes.push(Date.now()));
            assert.equal(textOf(await client.callTool({ name: F.toggleTool, arguments: {} })), 'dynamic_echo added');
            assert.ok((await client.listTools()).tools.some((t) => t.name === F.dynamicTool));
            assert.equal(textOf(await client.callTool({ name: F.dynamicTool, arguments: { message: 'hi' } })), 'hi');
            assert.equal(textOf(await client.callTool({ name: F.toggleTool, arguments: {} })), 'dynamic_echo removed');
            for (let i = 0; i < 100 && changes.length < 2; ++i) await sleep(10);
            assert.equal(changes.length, 2, 'two notifications/tools/list_changed expected');
        })
    );

    test(
        'initialize and tools/list',
        withServer('everything', async ({ client, transport }) => {
            assert.equal(transport.protocolVersion, F.expectedProtocolVersion);
            const caps = client.getServerCapabilities();
            for (const cap of ['tools', 'prompts', 'resources']) {
                assert.equal(typeof caps?.[cap], 'object', `no ${cap} capability: ${JSON.stringify(caps)}`);
            }
            const names = (await client.listTools()).tools.map((t) => t.name);
            for (const name of [F.simpleTextTool, F.progressTool, F.elicitationTool, F.cancellableTool]) {
                assert.ok(names.includes(name), `${name} missing from ${JSON.stringify(names)}`);
            }
            assert.equal(textOf(await client.callTool({ name: F.simpleTextTool, arguments: {} })), F.simpleText);
        })
    );

    test(
        'progress notifications reach onprogress in order, before the result',
        withServer('everything', async ({ client, transport, errors }) => {
            const seen = [];
            const result = await client.callTool({ name: F.progressTool, arguments: {} }, undefined, {
                onprogress: (p) => seen.push(p),
            });
            assert.ok(!result.isError, JSON.stringify(result));

            // What the server wrote, in order: every notification echoes the token, all come before the result.
            const request = transport.sent.find((m) => m.method === 'tools/call' && m.params?.name === F.progressTool);
            assert.deepEqual(wireStory(transport, request), [
                ...F.progressExpected.map(({ progress, total }) => `progress ${progress}/${total}`),
                'result',
            ]);

            // What onprogress got. SDK quirk: the client runs notification handlers a microtask late but settles
            // a response at once, so a notification read in the same stdout chunk as the response is dropped
            // ("unknown token"). Hence onprogress may miss the tail; the wire check above is the real one.
            assert.deepEqual(
                seen.map(({ progress, total }) => ({ progress, total })),
                F.progressExpected.slice(0, seen.length)
            );
            const dropped = errors.filter((e) => /progress notification for an unknown token/.test(e.message));
            assert.equal(seen.length + dropped.length, F.progressExpected.length);
            for (const e of dropped) errors.splice(errors.indexOf(e), 1);
        })
    );

    const asked = [];
    test(
        'elicitation round trip: the server asks, the client accepts, the tool sees the answer',
        withServer(
            'everything',
            async ({ client }) => {
                const result = await client.callTool({ name: F.elicitationTool, arguments: F.elicitationArgs });
                assert.equal(asked.length, 1, 'exactly one elicitation/create');
                assert.equal(asked[0].message, F.elicitationArgs.message);
                assert.equal(asked[0].requestedSchema?.type, 'object', JSON.stringify(asked[0]));
                assert.ok(!result.isError, `tool failed: ${JSON.stringify(result)}`);
                const text = textOf(result);
                for (const value of Object.values(F.elicitationAnswer)) {
                    assert.ok(text.includes(value), `'${value}' missing from the tool's answer: ${text}`);
                }
            },
            {
                // The empty capability object is the older spelling of form-mode support (the HTTP test uses {form: {}}).
                capabilities: { elicitation: {} },
                beforeConnect: (client) =>
                    client.setRequestHandler(ElicitRequestSchema, async (request) => {
                        asked.push(request.params);
                        return { action: 'accept', content: F.elicitationAnswer };
                    }),
            }
        )
    );

    test(
        'cancellation: the aborted call rejects promptly, the work stops, the server keeps serving',
        withServer('everything', async ({ client, errors }) => {
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
            await sleep(kCancelQuietMs);
            assert.deepEqual(lateProgressAfterCancel(errors, abortTimes), [], 'the cancelled tool kept running');
            // Progress that was already on its way at the abort is fine; withServer() checks everything else.
            const onTheirWay = errors.filter((e) => /progress notification for an unknown token/.test(e.message));
            for (const e of onTheirWay) errors.splice(errors.indexOf(e), 1);
        })
    );
});
