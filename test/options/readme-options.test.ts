import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVE_OPTIONS as SERVE_TABLE } from '../../src/options/serve.js';
import { meowFlags, shownDefault, type OptionSpec } from '../../src/options/spec.js';

/** The README's options tables name every `chat serve` flag once, with the table's default. */
const SERVE_OPTIONS: readonly OptionSpec[] = SERVE_TABLE;
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The rows of the first markdown table under `## heading`: cells, backticks dropped. */
function tableRows(heading: string): string[][] {
  const start = README.indexOf(`\n## ${heading}\n`);
  expect(start, `README has a "## ${heading}" section`).toBeGreaterThan(-1);
  const rest = README.slice(start + heading.length + 5);
  const end = rest.indexOf('\n## ');
  const lines = (end === -1 ? rest : rest.slice(0, end)).split('\n').filter((l) => l.startsWith('|'));
  return lines.slice(2).map((line) =>
    line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim().replace(/\\\|/g, '|').replace(/`/g, '')),
  );
}

/** flag -> default cell of the README rows that name flags. */
function readmeDefaults(heading: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const [flagCell = '', defaultCell = ''] of tableRows(heading)) {
    const flags = [...flagCell.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]!);
    if (flags.length === 0) continue; // a limit that is not a flag (WebSocket frame size...)
    expect(flags, `one flag per README row: ${flagCell}`).toHaveLength(1);
    expect(found.has(flags[0]!), `--${flags[0]} listed twice under ${heading}`).toBe(false);
    found.set(flags[0]!, defaultCell);
  }
  return found;
}

describe('README options tables', () => {
  const sections = [...new Set(SERVE_OPTIONS.map((o) => o.section))];

  it.each(sections)('"%s" lists exactly the flags of that section with their defaults', (section) => {
    const table = SERVE_OPTIONS.filter((o) => o.section === section);
    const readme = readmeDefaults(section);
    expect([...readme.keys()].sort()).toEqual(table.map((o) => o.flag).sort());
    for (const o of table)
      expect(`--${o.flag}: ${readme.get(o.flag)}`).toBe(`--${o.flag}: ${shownDefault(o) ?? ''}`);
  });

  it('its flag cells show the argument the help shows', () => {
    const cells = sections.flatMap((s) => tableRows(s).map((r) => r[0] ?? ''));
    for (const o of SERVE_OPTIONS) expect(cells).toContain(`--${o.flag}${o.arg ? ` ${o.arg}` : ''}`);
  });
});

describe('meowFlags', () => {
  const a: OptionSpec = {
    section: 's',
    flag: 'max-rooms',
    arg: 'N',
    type: 'number',
    default: 7,
    meaning: 'x',
  };
  const shared: OptionSpec = {
    section: 's',
    flag: 'port',
    arg: 'N',
    type: 'number',
    default: 8080,
    parseDefault: false,
    meaning: 'x',
  };

  it('camel-cases the flag and gives meow the default unless told not to', () => {
    expect(meowFlags([a, shared])).toEqual({
      maxRooms: { type: 'number', default: 7 },
      port: { type: 'number' },
    });
  });

  it('leaves a run-time default to the code that computes it', () => {
    expect(meowFlags([{ ...a, default: { computed: 'from the fd limit' } }])).toEqual({
      maxRooms: { type: 'number' },
    });
  });

  it('refuses one flag name with two types', () => {
    expect(() => meowFlags([shared], [{ ...shared, type: 'string' }])).toThrow(/--port/);
  });
});
