import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/server/server.js';
// statusLine sends the request line as written (fetch would normalise `..` away).
import { statusLine } from '../../helpers/raw-sockets.js';
import { startTestServer } from '../../helpers/test-server.js';
import { contentTypeOf, defaultWebRoot, safeRelativePath } from '../../../src/server/transports/static.js';

let server: RunningServer;
let root: string;
let outside: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'chat-web-'));
  outside = mkdtempSync(join(tmpdir(), 'chat-secret-'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'app.js'), 'export {};');
  writeFileSync(join(root, 'style.css'), 'body{}');
  writeFileSync(join(root, '.env'), 'SECRET=1');
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'sub', 'index.html'), 'sub');
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
  server = await startTestServer({
    webRoot: root,
  });
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('static files at /', () => {
  it.each([
    ['/', 'text/html; charset=utf-8'],
    ['/index.html', 'text/html; charset=utf-8'],
    ['/app.js', 'text/javascript; charset=utf-8'],
    ['/style.css', 'text/css; charset=utf-8'],
    ['/sub/', 'text/html; charset=utf-8'],
  ])('serves %s as %s', async (path, type) => {
    const res = await fetch(`${server.httpUrl}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers HEAD without a body and a matching ETag with 304', async () => {
    const head = await fetch(`${server.httpUrl}/app.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('10');
    const etag = head.headers.get('etag')!;
    const again = await fetch(`${server.httpUrl}/app.js`, { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
  });

  it.each([
    '/missing.js',
    '/.env',
    '/link.txt',
    '/sub',
    '/../package.json',
    '/%2e%2e/package.json',
    '/sub/..%2f..%2fetc%2fpasswd',
    '/%2e%2e%5cpackage.json',
    '/a%00.js',
    '/%E0%A4%A',
  ])('answers 404 for %s', async (path) => {
    expect(await statusLine(server.port, path)).toMatch(/^HTTP\/1\.1 (404|400)/);
  });

  it('leaves the other routes alone', async () => {
    expect((await fetch(`${server.httpUrl}/health`)).status).toBe(200);
    expect((await fetch(`${server.httpUrl}/index.html`, { method: 'POST' })).status).toBe(404);
  });
});

describe('static helpers', () => {
  it.each([
    ['/', 'index.html'],
    ['/a/b.js', 'a/b.js'],
    ['/a/', 'a/index.html'],
    ['/%61pp.js', 'app.js'],
    ['/../x', undefined],
    ['/a/../../x', undefined],
    ['/.git/config', undefined],
    ['/a%2f..%2f..%2fx', undefined],
    ['/a\\b', undefined],
    ['/%zz', undefined],
  ])('safeRelativePath(%j) = %j', (input, expected) => {
    expect(safeRelativePath(input)).toBe(expected);
  });

  it('knows the page types and falls back to bytes', () => {
    expect(contentTypeOf('x.SVG')).toBe('image/svg+xml');
    expect(contentTypeOf('x.bin')).toBe('application/octet-stream');
  });

  it('finds the package web/ directory from the source tree', () => {
    expect(defaultWebRoot().replace(/\\/g, '/')).toMatch(/\/web\/$/);
  });
});
