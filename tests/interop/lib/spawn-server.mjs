// Starts the servers under test for the interop tests, and stops them again.
//
// Which servers: deputy's example servers from $DEPUTY_BUILD_DIR/examples/, or — with INTEROP_PEER=1 — the
// TypeScript SDK peer beside this directory (peer-everything-server.mjs), which implements the same contract and
// exists so the tests themselves can be checked without deputy. Nothing is skipped: a missing build directory or
// executable is an error that says what to set.

import { spawn } from 'node:child_process';
import { existsSync, accessSync, constants as fsConstants } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const kHere = dirname(fileURLToPath(import.meta.url));
const kInteropDir = resolve(kHere, '..');
const kPeerScript = join(kInteropDir, 'peer-everything-server.mjs');

// A server must print its ready line within this time; deputy starts in milliseconds, the peer in ~1 s.
export const kReadyTimeoutMs = 10_000;
// After SIGTERM a server gets this long to exit before SIGKILL.
const kStopGraceMs = 3_000;
// Kept per server so a failing test can show what the server logged.
const kStderrKeepBytes = 64 * 1024;

const kReadyLine = /listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/;

export const usingPeer = process.env.INTEROP_PEER === '1';

/** `kind` is 'hello' or 'everything'. Returns {command, args} (args without transport flags). */
export function serverCommand(kind) {
    if (kind !== 'hello' && kind !== 'everything') {
        throw new Error(`unknown server kind '${kind}'`);
    }
    if (usingPeer) {
        return { command: process.execPath, args: [kPeerScript, '--profile', kind] };
    }
    const buildDir = process.env.DEPUTY_BUILD_DIR;
    if (!buildDir) {
        throw new Error(
            'DEPUTY_BUILD_DIR is not set: point it at deputy\'s build directory (the one holding examples/' +
                `${kind}-server), or set INTEROP_PEER=1 to run these tests against the TypeScript peer.`
        );
    }
    const exe = resolve(buildDir, 'examples', `${kind}-server`);
    if (!existsSync(exe)) {
        throw new Error(`${exe} does not exist: build deputy's examples first (DEPUTY_BUILD_DIR=${buildDir}).`);
    }
    try {
        accessSync(exe, fsConstants.X_OK);
    } catch {
        throw new Error(`${exe} is not executable.`);
    }
    return { command: exe, args: [] };
}

/** Parameters for the SDK's StdioClientTransport: the server with --stdio, its stderr piped. */
export function stdioServerParams(kind) {
    const { command, args } = serverCommand(kind);
    return { command, args: [...args, '--stdio'], stderr: 'pipe' };
}

/**
 * Spawns `kind` on 127.0.0.1 with an ephemeral port and waits for its ready line.
 * Resolves to {url, port, pid, stderr(), stop()}; rejects with the server's stderr when it exits or stays silent.
 */
export async function startHttpServer(kind) {
    const { command, args } = serverCommand(kind);
    const child = spawn(command, [...args, '--host', '127.0.0.1', '--port', '0'], {
        stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    let exited = null;
    let ready = false;
    const exitListeners = [];
    child.on('exit', (code, signal) => {
        exited = { code, signal };
        for (const listener of exitListeners) listener(exited);
    });

    const port = await new Promise((resolvePort, rejectPort) => {
        const timer = setTimeout(() => {
            fail(`${command} printed no 'listening on http://127.0.0.1:PORT/mcp' line within ${kReadyTimeoutMs} ms`);
        }, kReadyTimeoutMs);
        function fail(why) {
            if (ready) return;
            ready = true; // settled
            clearTimeout(timer);
            child.kill('SIGKILL');
            rejectPort(new Error(`${why}\n--- server stderr ---\n${log}`));
        }
        child.on('error', (err) => fail(`cannot start ${command}: ${err.message}`));
        exitListeners.push(({ code, signal }) =>
            fail(`${command} exited before it was ready (code ${code}, signal ${signal})`)
        );
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', (chunk) => {
            log = (log + chunk).slice(-kStderrKeepBytes);
            const m = ready ? null : kReadyLine.exec(log);
            if (m) {
                ready = true;
                clearTimeout(timer);
                resolvePort(Number(m[1]));
            }
        });
    });

    return {
        port,
        url: new URL(`http://127.0.0.1:${port}/mcp`),
        pid: child.pid,
        stderr: () => log,
        exited: () => exited,
        async stop() {
            if (exited || child.exitCode !== null || child.signalCode !== null) {
                return;
            }
            const gone = new Promise((r) => exitListeners.push(r));
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), kStopGraceMs);
            await gone;
            clearTimeout(timer);
        },
    };
}

/** Resolves after `ms`. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Rejects with `what` timing out if `promise` has not settled within `ms`. */
export function within(ms, promise, what) {
    let timer;
    return Promise.race([
        promise,
        new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
        }),
    ]).finally(() => clearTimeout(timer));
}
