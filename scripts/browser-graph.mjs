// Keeps in the browser build (dist/browser/) exactly the modules the page loads, and fails when
// one of them could not load in a browser without a bundler.
//
// tsc emits every file of the page's program, including those reached only through `import type`
// (schema.js, which imports zod; events.js): the page never loads them, and the server serves
// everything under dist/browser/, so they are deleted. Walking the graph from the entry also
// checks what a browser needs: every import relative, with its extension, to a file that exists.
// A bare import (`zod`) that reaches the page is an error here rather than a blank page.
//
// Usage: node scripts/browser-graph.mjs <build dir> <entry, relative to it>
import { readdirSync, readFileSync, rmSync, statSync, rmdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const [rootArg, entryArg] = process.argv.slice(2);
if (!rootArg || !entryArg) {
  console.error('usage: node scripts/browser-graph.mjs <build dir> <entry>');
  process.exit(2);
}
const root = resolve(rootArg);

// tsc prints one import or export per statement: `import ... from '...'`, `export ... from '...'`,
// `import '...'`. Dynamic import() is not used by the page and would be refused below.
const SPECIFIER = /(?:^|[;\n])\s*(?:import|export)\s+(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/g;

const problems = [];
const seen = new Set();
const queue = [resolve(root, entryArg)];
while (queue.length > 0) {
  const file = queue.pop();
  if (seen.has(file)) continue;
  seen.add(file);
  let source;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    problems.push(`${relative(root, file)} is imported but was not built`);
    continue;
  }
  if (/\bimport\s*\(/.test(source))
    problems.push(`${relative(root, file)}: dynamic import() is not supported`);
  for (const [, spec] of source.matchAll(SPECIFIER)) {
    if (!spec.startsWith('./') && !spec.startsWith('../')) {
      problems.push(`${relative(root, file)} imports '${spec}': a browser resolves only relative imports`);
      continue;
    }
    if (!spec.endsWith('.js')) {
      problems.push(`${relative(root, file)} imports '${spec}': give the .js extension`);
      continue;
    }
    const target = resolve(dirname(file), spec);
    if (target !== root && !target.startsWith(root + sep)) {
      problems.push(`${relative(root, file)} imports '${spec}', outside ${rootArg}`);
      continue;
    }
    queue.push(target);
  }
}
if (problems.length > 0) {
  console.error(`browser build: the page's modules cannot load in a browser:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}

/** Deletes every file under `dir` that the page does not load; returns true when `dir` is left empty. */
function prune(dir) {
  let empty = true;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory() ? prune(path) : !seen.has(path) && (rmSync(path), true)) continue;
    empty = false;
  }
  if (empty && dir !== root) rmdirSync(dir);
  return empty;
}
prune(root);
console.log(`browser build: ${seen.size} modules in ${rootArg}`);
