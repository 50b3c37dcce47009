import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pathOf, type HttpRoute } from './http.js';

/**
 * Serves the browser page: files under `web/` for GET and HEAD, `/` being `index.html`.
 * A path that is not a regular file inside the root is left to the next route (the 404), so
 * `..`, encoded traversal, dotfiles and symlinks out of the root are never served.
 */

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
};

/**
 * The package's `web/` directory. This module sits three levels below the package root both
 * as source (src/server/transports/) and built (dist/server/transports/).
 */
export function defaultWebRoot(): string {
  return fileURLToPath(new URL('../../../web/', import.meta.url));
}

/**
 * The browser page's code as built (`npm run build`: src/web/ and the shared modules it imports,
 * compiled into dist/browser/). `web/app.js` imports `../dist/browser/web/app.js`, which is
 * `/dist/browser/web/app.js` in the browser and the real file under Node. The build leaves in
 * dist/browser/ only the modules the page loads (scripts/browser-graph.mjs), so that directory is
 * the allow-list: nothing else under dist/, no source, no source maps, only `.js` files.
 */
export const BROWSER_MODULES_PREFIX = '/dist/browser/';

/** The browser build (dist/browser/), three levels up from this module as source or built. */
export function defaultBrowserRoot(): string {
  return fileURLToPath(new URL('../../../dist/browser/', import.meta.url));
}

/** Serves the page's built modules under {@link BROWSER_MODULES_PREFIX}. */
export function browserModulesRoute(root = defaultBrowserRoot()): HttpRoute {
  const files = staticRoute(root);
  return async (req, res, ctx) => {
    const path = pathOf(req);
    if (!path.startsWith(BROWSER_MODULES_PREFIX) || !path.endsWith('.js')) return false;
    // The static route reads the path from req.url; hand it the path inside the build.
    const original = req.url;
    req.url = `/${path.slice(BROWSER_MODULES_PREFIX.length)}`;
    try {
      return await files(req, res, ctx);
    } finally {
      req.url = original;
    }
  };
}

/** The content type for a file name; unknown kinds are sent as bytes. */
export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Maps a URL path to a relative file path, or undefined when it may not be served: undecodable,
 * NUL or backslash, or any segment that is empty-dot, `..` or a dotfile.
 */
export function safeRelativePath(urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').filter((s) => s.length > 0);
  if (segments.some((s) => s.startsWith('.'))) return undefined;
  if (decoded.endsWith('/') || segments.length === 0) segments.push('index.html');
  return segments.join('/');
}

/** Builds the static route over `root` (default: the package's web/). */
export function staticRoute(root = defaultWebRoot()): HttpRoute {
  const base = resolve(root);
  let realBase: Promise<string> | undefined;
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const relative = safeRelativePath(pathOf(req));
    if (relative === undefined) return false;
    const file = join(base, relative);
    let real: string;
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      real = await realpath(file);
      realBase ??= realpath(base);
      const rootReal = await realBase;
      if (real !== rootReal && !real.startsWith(rootReal + sep)) return false;
      info = await stat(real);
    } catch {
      return false;
    }
    if (!info.isFile()) return false;
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const headers = {
      'Content-Type': contentTypeOf(real),
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      ETag: etag,
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    res.writeHead(200, { ...headers, 'Content-Length': info.size });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    await new Promise<void>((done) => {
      const stream = createReadStream(real);
      stream.on('error', () => {
        res.destroy();
        done();
      });
      res.on('close', done);
      stream.pipe(res);
    });
    return true;
  };
}
