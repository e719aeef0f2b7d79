// The first `make demo`: the official MCP TypeScript SDK client lists and calls the tool of deputy's hello
// server. Usage: node demo-hello.mjs URL. Exits 0 only if every step behaved as told.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const url = process.argv[2];
if (!url) {
  console.error('usage: node demo-hello.mjs URL');
  process.exit(2);
}
const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const step = (text) => console.log(`\n${bold('▸ ' + text)}`);

const client = new Client({ name: 'deputy-demo', version: '1.0.0' });
step(`The official TypeScript SDK client connects to ${url}`);
await client.connect(new StreamableHTTPClientTransport(new URL(url)));
const server = client.getServerVersion();
console.log(`  server ${server.name} ${server.version}, session ${client.transport.sessionId}`);

step('It lists the tools');
const { tools } = await client.listTools();
for (const tool of tools) console.log(`  ${tool.name}: ${tool.description}`);
if (!tools.some((tool) => tool.name === 'echo')) throw new Error('no echo tool');

step('It calls echo');
const message = 'Hello from the TypeScript SDK';
const result = await client.callTool({ name: 'echo', arguments: { message } });
console.log(`  → ${result.content[0].text}`);
if (result.content[0].text !== message) throw new Error('echo answered something else');

step('A call with a wrong argument type is refused, naming the argument');
try {
  await client.callTool({ name: 'echo', arguments: { message: 42 } });
  throw new Error('the bad call was accepted');
} catch (error) {
  if (!String(error.message).includes('/message')) throw error;
  console.log(`  → ${error.message}`);
}

await client.transport.terminateSession();
await client.close();
console.log(`\n${bold('✓ demo finished')}`);
