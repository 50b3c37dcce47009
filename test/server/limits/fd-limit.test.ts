import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_EXEMPT, Admission } from '../../../src/server/limits/admission.js';
import {
  MAX_CLIENTS_CEILING,
  maxClientsFor,
  readFdLimit,
  RESERVED_FDS,
} from '../../../src/server/limits/fd-limit.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function limitsFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'chat-limits-'));
  dirs.push(dir);
  const path = join(dir, 'limits');
  writeFileSync(path, text);
  return path;
}

const HEADER = 'Limit                     Soft Limit           Hard Limit           Units     \n';

describe('readFdLimit', () => {
  it('reads the soft limit from /proc/self/limits', () => {
    const path = limitsFile(
      `${HEADER}Max processes             63457                63457                processes \nMax open files            1024                 524288               files     \n`,
    );
    expect(readFdLimit(path)).toEqual({ soft: 1024, source: '/proc/self/limits' });
    expect(
      readFdLimit(
        limitsFile(
          `${HEADER}Max open files            unlimited            unlimited            files     \n`,
        ),
      ),
    ).toEqual({ soft: undefined, source: 'unlimited' });
  });

  it("falls back to a shell's ulimit -n, which is this process's limit", () => {
    const shell = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
    expect(readFdLimit('/nonexistent/limits')).toEqual({ soft: shell, source: 'ulimit -n' });
  });

  it('on this Linux machine, agrees with the shell', () => {
    const shell = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
    expect(readFdLimit().soft).toBe(shell);
  });
});

describe('maxClientsFor', () => {
  it('leaves the reserve and a tenth, and stays within 1..ceiling', () => {
    expect(maxClientsFor(256)).toBe(Math.floor((256 - RESERVED_FDS) * 0.9));
    expect(maxClientsFor(1024)).toBe(806);
    expect(maxClientsFor(20_000)).toBe(17_884);
    expect(maxClientsFor(1_048_576)).toBe(MAX_CLIENTS_CEILING);
    expect(maxClientsFor(undefined)).toBe(MAX_CLIENTS_CEILING);
    expect(maxClientsFor(64)).toBe(1);
  });
});

describe('the default exemption', () => {
  it('covers 127.0.0.1 and ::1 only, not the rest of 127.0.0.0/8', () => {
    const a = new Admission({ maxClients: 100, maxPerIp: 1, connectsPerMinute: 100, exempt: DEFAULT_EXEMPT });
    expect(a.admit('127.0.0.1')).toBeUndefined();
    expect(a.admit('127.0.0.1')).toBeUndefined();
    expect(a.admit('::ffff:127.0.0.1')).toBeUndefined();
    expect(a.admit('::1')).toBeUndefined();
    expect(a.admit('::1')).toBeUndefined();
    expect(a.admit('127.0.0.5')).toBeUndefined();
    expect(a.admit('127.0.0.5')).toMatchObject({ code: 'too_many_connections' });
  });
});
