import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONNECT_OPTIONS } from '../../src/options/connect.js';
import { SERVE_OPTIONS } from '../../src/options/serve.js';
import { shownDefault, type OptionSpec } from '../../src/options/spec.js';

/** `chat serve --help` from the built binary (`npm test` builds dist/ first) lists every flag of the tables. */
const BIN = fileURLToPath(new URL('../../bin/chat.js', import.meta.url));

function help(): string {
  const result = spawnSync(process.execPath, [BIN, 'serve', '--help'], { encoding: 'utf8', timeout: 10_000 });
  expect(result.status).toBe(0);
  return result.stdout;
}

/** The text of one help section, from its title to the next blank line. */
function section(text: string, title: string): string {
  const start = text.indexOf(`\n  ${title}\n`);
  expect(start, `--help has a "${title}" section`).toBeGreaterThan(-1);
  const end = text.indexOf('\n\n', start + 1);
  return text.slice(start, end === -1 ? undefined : end);
}

describe('chat serve --help', () => {
  const text = help();

  it.each([
    ['Serve options', SERVE_OPTIONS.filter((o) => o.section === 'Server options')],
    ['Limits and security', SERVE_OPTIONS.filter((o) => o.section === 'Limits and security')],
    ['Connect options', CONNECT_OPTIONS],
  ] as [string, readonly OptionSpec[]][])(
    '"%s" lists each of its flags, with its default',
    (title, options) => {
      const body = section(text, title);
      // Wrapped lines are joined so a default split over two lines still reads as one phrase.
      const flat = body.replace(/\n\s+/g, ' ');
      for (const o of options) {
        expect(body).toMatch(
          new RegExp(`^ {4}--${o.flag}${o.arg ? ` ${o.arg.replace('|', '\\|')}` : ''}(\\s|$)`, 'm'),
        );
        const def = shownDefault(o);
        if (def !== undefined) expect(flat).toContain(`default ${def}`);
      }
    },
  );
});
