// `wrangler dev` without its DevTools inspector and without its proxy, for the benches, the tests
// and `make demo`. The CLI always starts an inspector, and with no DevTools attached wrangler
// buffers every inspector event in this process (CPU per request outside workerd, and memory that
// grows for as long as the worker runs). Its proxy (a workerd of its own between the port and the
// worker) loses requests when its idle connection to the worker closes as one goes out: in wrangler
// 4.86, the last release for Node 20, a GET is then queued for a reload that never comes (hung for
// good; CI failed page loads and admin reads on it) and anything else answered 503 (see
// cloudflare/workers-sdk#14641). So the port given here is a plain TCP relay to the worker's own
// socket: keep-alive, WebSockets and the Host header pass as they are, and a connection the worker
// closes is closed to the client, which retries it as any HTTP client does.
// Usage: node scripts/wrangler-dev.mjs --port P --persist-to DIR [--var NAME:VALUE ...]
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

const relay = net.createServer((client) => {
  const upstream = net.connect({ host: userWorker.hostname, port: Number(userWorker.port) });
  const close = () => { client.destroy(); upstream.destroy(); };
  client.pipe(upstream);
  upstream.pipe(client);
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
