// Usage: node scripts/drop-stream-classes.mjs GLUE.js
//
// Removes wasm-streams' three JS classes (IntoUnderlyingSource, IntoUnderlyingByteSource,
// IntoUnderlyingSink) from wasm-bindgen's glue GLUE.js, in place. Leptos turns on server_fn's
// "browser" feature, which links wasm-streams, whose `#[wasm_bindgen]` classes every cdylib then
// exports; the UI modules use no server functions and so no streams, yet the exports kept their
// code alive (issue 16: ~4 KB of wasm and the classes' glue in each UI module).
// build-widget.sh removes their wasm exports (`wasm-opt --remove-exports`); this removes the
// glue that would call them. A class still named anywhere after that fails the build, rather
// than ship a glue that throws when it is reached.
import { readFileSync, writeFileSync } from 'node:fs';

const CLASSES = ['IntoUnderlyingByteSource', 'IntoUnderlyingSink', 'IntoUnderlyingSource'];
const [gluePath] = process.argv.slice(2);
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
