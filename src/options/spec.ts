/**
 * The shape of a command-line option table (src/options/serve.ts, connect.ts), and what is built
 * from one: meow's flag definitions and the options part of `chat --help`. The README's options
 * tables are checked against the same tables (test/options/readme-options.test.ts).
 */

/** A default known only at run time (read from the system or the environment). */
export interface ComputedDefault {
  computed: string;
}

/** One flag of one command. */
export interface OptionSpec {
  /** The flag without its dashes, kebab-case, as typed: `max-rooms`. */
  flag: string;
  /** The value's placeholder in the help (`N`, `MS`); absent for a boolean switch. */
  arg?: string;
  type: 'number' | 'string' | 'boolean';
  /** Given more than once, the values make a list. */
  multiple?: boolean;
  /** The only values accepted (meow refuses others). */
  choices?: readonly string[];
  /**
   * The default: a value, a run-time rule described in words, or absent when the feature is off
   * until asked for (then `shown` says so, if anything).
   */
  default?: number | string | boolean | ComputedDefault;
  /** How the default reads in `--help` and the README; `String(default)` when absent. */
  shown?: string;
  /** The unit of a number (`ms`, `s`, `min`, `per second`, `bytes`, `%`...). */
  unit?: string;
  /**
   * False when meow must leave the flag undefined although it has a default: the flag is shared
   * with another command (`--port` in `chat connect`), or `chat bench` forwards it to the server
   * it starts only when given. The default is then applied where the value is used.
   */
  parseDefault?: boolean;
  /** The help section the flag is listed in (the README has a table per section). */
  section: string;
  /** What it does, one short sentence for `--help`. */
  meaning: string;
}

/** meow's definition of one flag. */
export interface MeowFlag {
  type: 'number' | 'string' | 'boolean';
  isMultiple?: boolean;
  choices?: string[];
  default?: number | string | boolean;
}

/** `max-rooms` -> `maxRooms`, the key meow gives the value under. */
export function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The default as `--help` and the README show it, or undefined when there is none to show. */
export function shownDefault(o: OptionSpec): string | undefined {
  if (o.shown !== undefined) return o.shown;
  if (o.default === undefined) return undefined;
  if (typeof o.default === 'object') return o.default.computed;
  if (o.type === 'boolean') return o.default ? 'on' : 'off';
  return String(o.default);
}

/** The default meow fills in, if any. */
function parsedDefault(o: OptionSpec): number | string | boolean | undefined {
  if (o.parseDefault === false || o.default === undefined || typeof o.default === 'object') return undefined;
  return o.default;
}

/**
 * meow's flags for every table given. A flag listed by several commands (`--port`) is defined
 * once, by the first table that lists it; they must agree on its type.
 */
export function meowFlags(...tables: (readonly OptionSpec[])[]): Record<string, MeowFlag> {
  const flags: Record<string, MeowFlag> = {};
  for (const o of tables.flat()) {
    const key = camelCase(o.flag);
    const seen = flags[key];
    if (seen) {
      if (seen.type !== o.type)
        throw new Error(`--${o.flag} is a ${seen.type} in one table and a ${o.type} in another`);
      continue;
    }
    const def = parsedDefault(o);
    flags[key] = {
      type: o.type,
      ...(o.multiple ? { isMultiple: true } : {}),
      ...(o.choices ? { choices: [...o.choices] } : {}),
      ...(def !== undefined ? { default: def } : {}),
    };
  }
  return flags;
}

const INDENT = 4;
const LEFT = 26;
const WIDTH = 100;

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** One flag in `--help`: the flag and its argument, then its meaning and default, wrapped. */
export function helpLine(o: OptionSpec): string {
  const left = `--${o.flag}${o.arg ? ` ${o.arg}` : ''}`;
  const def = shownDefault(o);
  const text = def === undefined ? o.meaning : `${o.meaning}; default ${def}`;
  const body = wrap(text, WIDTH - INDENT - LEFT);
  const pad = ' '.repeat(INDENT);
  const first =
    left.length < LEFT - 1
      ? `${pad}${left.padEnd(LEFT)}${body[0] ?? ''}`
      : `${pad}${left}\n${pad}${' '.repeat(LEFT)}${body[0] ?? ''}`;
  return [first, ...body.slice(1).map((l) => `${pad}${' '.repeat(LEFT)}${l}`)].join('\n');
}

/** The help sections of a table, in the order they first appear: a title line, then its flags. */
export function helpSections(table: readonly OptionSpec[], titles: Record<string, string> = {}): string {
  const sections = [...new Set(table.map((o) => o.section))];
  return sections
    .map((s) => [`  ${titles[s] ?? s}`, ...table.filter((o) => o.section === s).map(helpLine)].join('\n'))
    .join('\n\n');
}

type Camel<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<Camel<B>>}` : S;
type Base<O> = O extends { type: 'number' } ? number : O extends { type: 'boolean' } ? boolean : string;
type Value<O> = O extends { multiple: true } ? Base<O>[] : Base<O>;
type Filled<O> = O extends { parseDefault: false }
  ? false
  : O extends { default: number | string | boolean }
    ? true
    : false;

/**
 * The values meow gives for a table declared `as const`: keyed by the camel-cased flag, optional
 * unless meow fills in a default.
 */
export type FlagValues<T extends readonly OptionSpec[]> = {
  [O in T[number] as Camel<O['flag']>]: Filled<O> extends true ? Value<O> : Value<O> | undefined;
};
