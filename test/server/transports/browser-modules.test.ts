/**
 * The browser page's code as the server serves it: the module graph from /app.js (the real
 * web/app.js and the build in dist/browser/, so `npm run build` first) loads in a browser without
 * a bundler, and the server serves exactly that graph from dist/ and nothing else.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/server/server.js';
// statusLine sends the request line as written (fetch would normalise `..` away).
import { statusLine } from '../../helpers/raw-sockets.js';
import { startTestServer } from '../../helpers/test-server.js';
import { defaultBrowserRoot } from '../../../src/server/transports/static.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

// Every static import and re-export, as tsc prints them (one per statement), and import().
const SPECIFIER = /(?:^|[;\n])\s*(?:import|export)\s+(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/g;

/** Fetches the module graph from `entry` as a browser would: URL by URL, resolving each import. */
async function walk(entry: string): Promise<{ urls: Set<string>; bare: string[] }> {
  const urls = new Set<string>();
  const bare: string[] = [];
  const queue = [new URL(entry, server.httpUrl).href];
  while (queue.length > 0) {
    const url = queue.pop()!;
    if (urls.has(url)) continue;
    urls.add(url);
    const res = await fetch(url);
    expect(res.status, url).toBe(200);
    expect(res.headers.get('content-type'), url).toBe('text/javascript; charset=utf-8');
    const source = await res.text();
    expect(source, `${url} uses import()`).not.toMatch(/\bimport\s*\(/);
    for (const [, spec] of source.matchAll(SPECIFIER)) {
      if (!spec!.startsWith('./') && !spec!.startsWith('../')) bare.push(`${url} imports '${spec}'`);
      else queue.push(new URL(spec!, url).href);
    }
  }
  return { urls, bare };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('the browser page modules at /dist/browser/', () => {
  it('load from /app.js with relative imports only (no bare package import reaches the page)', async () => {
    const { urls, bare } = await walk('/app.js');
    expect(bare).toEqual([]);
    const paths = [...urls].map((u) => new URL(u).pathname);
    // The shared modules come along: nick keys, sanitiser, commands, backoff, mention matching.
    expect(paths).toEqual(
      expect.arrayContaining([
        '/dist/browser/web/app.js',
        '/dist/browser/protocol/nick.js',
        '/dist/browser/protocol/sanitize.js',
        '/dist/browser/protocol/commands.js',
        '/dist/browser/client/backoff.js',
        '/dist/browser/client/state/mention.js',
      ]),
    );
  });

  it('are exactly what the build left in dist/browser/', async () => {
    const { urls } = await walk('/app.js');
    const served = [...urls].map((u) => new URL(u).pathname).filter((p) => p.startsWith('/dist/browser/'));
    const root = defaultBrowserRoot();
    const built = filesUnder(root).map((f) => `/dist/browser/${relative(root, f).split('\\').join('/')}`);
    expect(served.sort()).toEqual(built.sort());
  });

  it.each([
    // Emitted by tsc for `import type` only, then pruned by the build: schema.js imports zod.
    '/dist/browser/protocol/schema.js',
    '/dist/browser/protocol/events.js',
    '/dist/browser/web/app.js.map',
    '/dist/browser/',
    '/dist/browser/web/',
    '/dist/protocol/commands.js',
    '/dist/server/hub.js',
    '/dist/browser/../server/hub.js',
    '/dist/browser/%2e%2e/server/hub.js',
    '/dist/browser/..%2fserver%2fhub.js',
    '/dist/browser/web/../../server/hub.js',
    '/src/web/app.ts',
    '/dist/browser/web/app.ts',
  ])('serves nothing else from dist/ or the source: %s is 404', async (path) => {
    expect(await statusLine(server.port, path)).toBe('HTTP/1.1 404 Not Found');
  });
});
