// `wrangler dev` without its DevTools inspector, for the benches and tests: the CLI always starts
// one, and with no DevTools attached wrangler buffers every inspector event in this process
// (CPU per request outside workerd, and memory that grows for as long as the worker runs).
// Usage: node scripts/wrangler-dev.mjs --port P --persist-to DIR [--var NAME:VALUE ...]
import { unstable_startWorker } from "wrangler";

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

const worker = await unstable_startWorker({
  config: "wrangler.toml",
  bindings,
  dev: {
    inspector: false,
    server: { hostname: "127.0.0.1", port },
    persist,
    testScheduled: true,
    watch: false,
    liveReload: false,
  },
});
await worker.ready;
console.log(`Ready on http://127.0.0.1:${port}`);
const stop = async () => { await worker.dispose(); process.exit(0); };
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
