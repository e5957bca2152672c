// `wrangler dev` without its DevTools inspector and without its proxy, for the benches, the tests
// and `make demo`. The CLI always starts an inspector, and with no DevTools attached wrangler
// buffers every inspector event in this process (CPU per request outside workerd, and memory that
// grows for as long as the worker runs).
//
// The port given here is served by a small relay rather than by wrangler's proxy. workerd closes a
// kept-alive connection after a request that took a few seconds (a password hash on a loaded
// machine), and a request sent on it then is lost. wrangler's proxy reuses its connections to the
// worker, and in 4.86 (the last release for Node 20) it then answers anything but a GET with 503
// "restarted mid-request" and queues a GET for a reload that never comes: it hangs for good (CI
// failed page loads and admin reads on that; see also cloudflare/workers-sdk#14641). The relay
// keeps the client's connection alive itself and sends each request to the worker on a connection
// of its own, so no request ever rides on a connection the worker has closed; WebSocket upgrades
// are piped through as they are.
// Usage: node scripts/wrangler-dev.mjs --port P --persist-to DIR [--var NAME:VALUE ...]
import http from "node:http";
import net from "node:net";
import { unstable_DevEnv as DevEnv } from "wrangler";

const args = process.argv.slice(2);
let port = 8787;
let persist;
const bindings = {};
for (let i = 0; i < args.length; i++) {
  const value = args[i + 1];
  if (args[i] === "--port") { port = Number(value); i++; }
  else if (args[i] === "--persist-to") { persist = value; i++; }
  else if (args[i] === "--var") {
    const at = value.indexOf(":");
    bindings[value.slice(0, at)] = { type: "plain_text", value: value.slice(at + 1) };
    i++;
  } else { console.error(`unknown argument ${args[i]}`); process.exit(2); }
}

const devEnv = new DevEnv();
// The worker's own socket, as each (re)load of the worker reports it to the proxy.
let userWorker;
let loaded;
const firstLoad = new Promise((resolve) => { loaded = resolve; });
const onReloadComplete = devEnv.proxy.onReloadComplete.bind(devEnv.proxy);
devEnv.proxy.onReloadComplete = (event) => {
  userWorker = event.proxyData.userWorkerUrl;
  loaded();
  return onReloadComplete(event);
};
const worker = await devEnv.startWorker({
  config: "wrangler.toml",
  bindings,
  dev: {
    inspector: false,
    // wrangler's proxy on a port of its own, unused; the relay takes the one asked for.
    server: { hostname: "127.0.0.1", port: 0 },
    persist,
    testScheduled: true,
    watch: false,
    liveReload: false,
  },
});
await worker.ready;
await firstLoad;
// For the benches, whose sockets connect to the worker itself (tests/src/worker.rs).
console.log(`workerd socket ${userWorker.hostname}:${userWorker.port}`);

// Headers that describe one connection, not the request: each side's connection is its own.
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"]);
const pairs = (raw) => {
  const kept = [];
  for (let i = 0; i < raw.length; i += 2) if (!HOP_BY_HOP.has(raw[i].toLowerCase())) kept.push(raw[i], raw[i + 1]);
  return kept;
};
// workerd's own socket, as the last (re)load reported it.
const workerSocket = () => ({ host: userWorker.hostname, port: Number(userWorker.port) });
const relay = http.createServer((request, response) => {
  const upstream = http.request({
    ...workerSocket(),
    method: request.method,
    path: request.url,
    headers: pairs(request.rawHeaders),
    agent: false,
  }, (answer) => {
    response.writeHead(answer.statusCode, answer.statusMessage, pairs(answer.rawHeaders));
    answer.pipe(response);
    answer.on("error", () => response.destroy());
  });
  upstream.on("error", (error) => {
    if (response.headersSent) return response.destroy();
    response.writeHead(502, { "content-type": "text/plain" });
    response.end(`the relay could not reach the worker: ${error.message}\n`);
  });
  request.pipe(upstream);
});
// Longer than any client here keeps an idle connection, so the relay is never the one closing it
// as a request goes out.
relay.keepAliveTimeout = 65_000;
relay.on("upgrade", (request, client, head) => {
  const upstream = net.connect(workerSocket(), () => {
    const lines = [`${request.method} ${request.url} HTTP/${request.httpVersion}`];
    for (let i = 0; i < request.rawHeaders.length; i += 2) lines.push(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
    upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length) upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const close = () => { client.destroy(); upstream.destroy(); };
  for (const socket of [client, upstream]) {
    socket.on("error", close);
    socket.on("close", close);
  }
});
relay.on("error", (error) => { console.error(`the relay on port ${port} failed to start: ${error.message}`); process.exit(1); });
relay.listen(port, "127.0.0.1", () => console.log(`Ready on http://127.0.0.1:${port}`));
const stop = async () => { relay.close(); await worker.dispose(); process.exit(0); };
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
