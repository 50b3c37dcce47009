// Bundles the terminal client (dist/client/main.js and everything it loads: ws, Ink, React,
// string-width) into one file, dist/client/connect.bundle.js, which `chat connect` loads.
//
// Why: Node 20 resolves, reads and links ESM files one by one, and the client's dependency
// graph is several hundred files; on this machine that took about 1 s of the 2 s start-up,
// the bundle about 0.2-0.4 s. The server is not bundled: it starts once and runs for days, and
// better-sqlite3 is a native addon.
//
// Usage: node scripts/bundle-client.mjs (after tsc has written dist/)
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stub = fileURLToPath(new URL('./empty-module.mjs', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ['dist/client/main.js'],
  outfile: 'dist/client/connect.bundle.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Ink loads its React devtools bridge only when DEV=true; the bridge's package is not installed.
  alias: { 'react-devtools-core': stub },
  // ws's optional native speed-ups: required inside try/catch, absent here.
  external: ['bufferutil', 'utf-8-validate'],
  // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __chatRequire } from 'node:module'; const require = __chatRequire(import.meta.url);",
  },
});
