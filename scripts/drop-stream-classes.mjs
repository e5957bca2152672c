// Usage: node scripts/drop-stream-classes.mjs GLUE.js MODULE_bg.wasm
//
// Removes wasm-streams' three classes (IntoUnderlyingSource, IntoUnderlyingByteSource,
// IntoUnderlyingSink) from a module wasm-bindgen just wrote, in place: their JS classes from the
// glue GLUE.js, and from MODULE_bg.wasm their exports and the function-table entries that only
// their exports reach. Leptos turns on server_fn's "browser" feature, which links wasm-streams,
// whose `#[wasm_bindgen]` classes every cdylib then exports; the UI modules use no server
// functions and so no streams, yet the exports kept their code alive (issue 16: ~4 KB of wasm and
// the classes' glue in each UI module).
//
// The table entries: each stream method wraps a future in a promise, and the boxed futures'
// vtables put their poll and drop functions (and what they call) in the function table, where
// wasm-opt must keep them, since it cannot tell which table slots a `call_indirect` may reach.
// With the exports gone nothing builds those futures any more, so their slots point at one
// function that traps instead, and wasm-opt drops the rest (measured 2026-12-03: the cards module
// 2.6 KB brotli smaller). A slot is kept at its index, so every other vtable stays valid. The
// names come from the wasm's name section, which wasm-bindgen keeps (the first wasm-opt strips it).
//
// A class still named in the glue after that fails the build, rather than ship a glue that throws
// when it is reached.
import { readFileSync, writeFileSync } from 'node:fs';
import binaryen from 'binaryen';

const CLASSES = ['IntoUnderlyingByteSource', 'IntoUnderlyingSink', 'IntoUnderlyingSource'];
const [gluePath, wasmPath] = process.argv.slice(2);
let glue = readFileSync(gluePath, 'utf8');

for (const name of CLASSES) {
  // `export class Name {` to its closing brace at the start of a line, with its doc comment.
  const body = new RegExp(`(/\\*\\*(?:(?!\\*/)[\\s\\S])*\\*/\\n)?export class ${name} \\{\\n[\\s\\S]*?\\n\\}\\n`);
  if (!body.test(glue)) continue;
  glue = glue.replace(body, '');
  // `if (Symbol.dispose) Name.prototype[Symbol.dispose] = Name.prototype.free;`
  glue = glue.replace(new RegExp(`^if \\(Symbol\\.dispose\\) ${name}\\.prototype.*\\n`, 'm'), '');
  // `const NameFinalization = (typeof FinalizationRegistry === 'undefined') ? ... : new ...;`
  glue = glue.replace(new RegExp(`^const ${name}Finalization = [\\s\\S]*?\\);\\n`, 'm'), '');
  if (new RegExp(`\\b${name}`).test(glue)) throw new Error(`the glue still uses ${name} (${gluePath})`);
}
writeFileSync(gluePath, glue);

// The exports are the classes' methods (`intounderlyingsource_pull`, `__wbg_intounderlyingsink_free`...).
binaryen.setDebugInfo(true); // keeps the name section, which `wasm-opt -g` profiles read
const wasm = binaryen.readBinary(readFileSync(wasmPath));
let exports = 0;
for (let i = wasm.getNumExports() - 1; i >= 0; i--) {
  const { name } = binaryen.getExportInfo(wasm.getExportByIndex(i));
  if (/intounderlying/.test(name)) {
    wasm.removeExport(name);
    exports++;
  }
}
// The first load links no Leptos and so no streams: nothing to do.
if (exports === 0) process.exit(0);
const TRAP = 'floorwalker_dropped_stream_entry';
wasm.addFunction(TRAP, binaryen.none, binaryen.none, [], wasm.unreachable());
let dropped = 0;
const segments = [];
for (let i = 0; i < wasm.getNumElementSegments(); i++) {
  segments.push(binaryen.getElementSegmentInfo(wasm.getElementSegmentByIndex(i)));
}
// Only the segments with a stream entry are rewritten: the UI module also has one of null slots
// (filled by its chat chunk when that loads), which binaryen.js cannot write back.
// A split module's `local_shim`s (wasm-split-cli's: what its chat chunk calls through the table)
// stay, whatever crate their target's generic code was named after: a cast to a closure can carry
// wasm-streams' name and serve the chat.
const streamOnly = (func) => /wasm_streams/.test(func) && !/ local_shim$/.test(func);
for (const segment of segments.filter((s) => s.data.some(streamOnly))) {
  const data = segment.data.map((func) => (streamOnly(func) ? (dropped++, TRAP) : func));
  wasm.removeElementSegment(segment.name);
  wasm.addActiveElementSegment(segment.table, segment.name, data, wasm.copyExpression(segment.offset));
}
// None would mean the names are gone or wasm-streams changed: say so rather than silently grow.
if (dropped === 0) throw new Error(`no wasm-streams function in ${wasmPath}'s table (no name section?)`);
if (!wasm.validate()) throw new Error(`${wasmPath} does not validate after dropping the stream classes`);
writeFileSync(wasmPath, wasm.emitBinary());
