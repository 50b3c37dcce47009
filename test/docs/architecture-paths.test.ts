import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = 'docs/architecture.md';

/** Every `src/...`, `test/...` and `bench/...` path the page names (not part of a longer path). */
function namedPaths(text: string): string[] {
  const found = new Set<string>();
  for (const [path] of text.matchAll(/(?<![\w./-])(?:src|test|bench)\/[\w./-]*[\w/]/g)) found.add(path);
  return [...found].sort();
}

/** File names the page gives in backticks on their own (`tcp-lines.ts`), under a folder it named. */
function namedFiles(text: string): string[] {
  const found = new Set<string>();
  for (const [, name] of text.matchAll(/`([\w.-]+\.(?:ts|tsx|mjs|js|json))`/g)) found.add(name!);
  return [...found].sort();
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe(DOC, () => {
  const text = readFileSync(`${ROOT}${DOC}`, 'utf8');

  it('names the layout (so this check has something to check)', () => {
    expect(namedPaths(text).length).toBeGreaterThan(40);
    expect(namedPaths(text)).toContain('src/server/hub/identity.ts');
    expect(namedFiles(text)).toContain('handler.ts');
  });

  it('names only paths that exist', () => {
    expect(namedPaths(text).filter((p) => !existsSync(`${ROOT}${p}`))).toEqual([]);
  });

  it('names only files that exist somewhere in the sources, tests, scripts or page', () => {
    const names = new Set(
      ['src', 'test', 'bench', 'scripts', 'web']
        .flatMap((d) => filesUnder(`${ROOT}${d}`))
        .map((f) => basename(f)),
    );
    expect(namedFiles(text).filter((n) => !names.has(n))).toEqual([]);
  });
});
