// Usage: node scripts/short-wasm-names.mjs GLUE.js MODULE.wasm NAMES.json [LINK.js]
//
// Rewrites wasm-bindgen's glue GLUE.js (in place) for MODULE.wasm, whose imports, exports and
// import module were renamed by `wasm-opt --minify-imports-and-exports-and-modules` (NAMES.json is
// the mapping it printed). wasm-bindgen names each import after the function and a hash
// (`__wbg_addEventListener_2a1b...`): written once in the wasm and once in the glue, 130-odd
// random hashes that brotli cannot shrink (issue 16: the first load is ~4 KB brotli smaller with
// one- or two-letter names). Node, because it is a build step and node runs the build's other
// tools (wasm-opt, esbuild); any name it cannot find fails the build rather than ship a glue
// that does not link.
//
// A module split by wasm-split-cli also imports from its link JS LINK.js (the chunks' loaders,
// which the glue imports whole as `importN`); wasm-opt gives those imports the one module name too,
// so they join the glue's import object. LINK.js hands the module's memory, table and stack
// pointer to the chunks by their export names: those are rewritten in it as well.
import { readFileSync, writeFileSync } from 'node:fs';

const [gluePath, wasmPath, namesPath, linkPath] = process.argv.slice(2);
const names = JSON.parse(readFileSync(namesPath, 'utf8'));
const imports = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasmPath)));
const modules = new Set(imports.map((i) => i.module));
if (modules.size !== 1) throw new Error(`expected one import module, found ${[...modules]}`);
const [module] = modules;
let glue = readFileSync(gluePath, 'utf8');

const escape = (s) => s.replace(/[$.*+?^(){}|[\]\\/]/g, '\\$&');
// The import object's entries the wasm no longer imports (wasm-opt removed their last caller,
// e.g. wasm-streams' after scripts/drop-stream-classes.mjs): gone from the glue too, with their
// long names and the helpers only they used (2026-12-03: the cards module ~150 B brotli).
const imported = new Set(names.imports.map(([, from]) => from));
glue = glue.replace(/^(    const import0 = \{\n)([\s\S]*?)(^    \};\n)/m, (_, open, body, close) => {
  const entries = body.split(/^(?=        [\w$]+: )/m);
  const kept = entries.filter((entry) => {
    const key = /^        ([\w$]+): /.exec(entry);
    return !key || key[1] === '__proto__' || imported.has(key[1]);
  });
  return open + kept.join('') + close;
});
const oldModules = new Set(names.imports.map(([from]) => from));
const linked = new Set();
for (const from of oldModules) {
  const key = new RegExp(`^( +)"${escape(from)}": (import\\d+),\n`, 'm');
  const found = key.exec(glue);
  if (!found) throw new Error(`the glue has no import object for ${from}`);
  const [, indent, object] = found;
  if (object === 'import0') {
    glue = glue.replace(key, `${indent}${JSON.stringify(module)}: import0,\n`);
    continue;
  }
  // A whole JS module (the link JS): its functions join import0 under their new names.
  linked.add(from);
  glue = glue.replace(key, '');
  const entries = names.imports.filter(([mod]) => mod === from).map(([, name, to]) => `        ${JSON.stringify(to)}: ${object}.${name},\n`);
  glue = glue.replace(/^(    const import0 = \{\n)/m, (open) => open + entries.join(''));
}
for (const [mod, from, to] of names.imports) {
  if (linked.has(mod)) continue;
  // The import object's keys, one a line: `        __wbg_href_a0128fb7c568d8e5: function(arg0, arg1) {`.
  const key = new RegExp(`^(\\s+)${escape(from)}:`, 'm');
  if (!key.test(glue)) throw new Error(`the glue does not define the import ${from}`);
  glue = glue.replace(key, `$1${JSON.stringify(to)}:`);
}
const exports = new Map(names.exports);
glue = glue.replace(/\bwasm\.([A-Za-z_$][\w$]*)/g, (_, name) => {
  const to = exports.get(name);
  if (to === undefined) throw new Error(`the glue uses an export the module does not have: ${name}`);
  return `wasm[${JSON.stringify(to)}]`;
});
writeFileSync(gluePath, glue);

if (linkPath) {
  // `const { __indirect_function_table, __wasm_split_shared0, memory,  } = initSync(undefined, undefined);`
  let link = readFileSync(linkPath, 'utf8');
  const shared = /const \{([^}]*)\} = initSync\(/;
  const found = shared.exec(link);
  if (!found) throw new Error(`${linkPath} does not take the module's exports from initSync`);
  const renamed = found[1].split(',').map((name) => name.trim()).filter(Boolean).map((name) => {
    const to = exports.get(name);
    if (to === undefined) throw new Error(`${linkPath} uses an export the module does not have: ${name}`);
    return `${JSON.stringify(to)}: ${name}`;
  });
  writeFileSync(linkPath, link.replace(shared, `const { ${renamed.join(', ')} } = initSync(`));
}
