import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findLinks, safeHref } from '../../src/client/tui/layout/links.js';
import { newConversation } from '../../src/client/state/conversations.js';
import type { Conversation, Entry } from '../../src/client/state/types.js';
import { entryLines } from '../../src/client/tui/layout/entry-lines.js';
import { scrollBy, scrollOffset, scrollStep, visibleLines } from '../../src/client/tui/layout/viewport.js';
import { inputRows } from '../../src/client/tui/layout/screen.js';
import { cellWidth, hardWrap, wrapCells } from '../../src/client/tui/layout/wrap.js';
import { nickColor } from '../../src/client/tui/nick-color.js';

describe('wrapCells', () => {
  it.each([
    ['short text stays one line', 'hello world', 20, ['hello world']],
    ['wraps at word boundaries', 'hello big world', 10, ['hello big', 'world']],
    ['drops the space at the wrap point', 'aaaa bbbb', 4, ['aaaa', 'bbbb']],
    ['breaks a word longer than a line', 'abcdefghij', 4, ['abcd', 'efgh', 'ij']],
    ['CJK takes two cells each', '漢字漢字漢字', 5, ['漢字', '漢字', '漢字']],
    ['emoji take two cells and never split', '👍👍👍', 4, ['👍👍', '👍']],
    ['a skin-toned emoji takes four cells (see cellWidth) and never splits', '👍🏽👍🏽👍🏽', 8, ['👍🏽👍🏽', '👍🏽']],
    ['a ZWJ family is one grapheme', 'ab👨‍👩‍👧cd', 8, ['ab👨‍👩‍👧', 'cd']],
    ['newlines start new lines', 'one\ntwo', 20, ['one', 'two']],
    ['an empty text is one empty line', '', 10, ['']],
  ])('%s', (_name, text, width, expected) => {
    const lines = wrapCells(text, width);
    expect(lines).toEqual(expected);
    for (const line of lines) expect(cellWidth(line)).toBeLessThanOrEqual(width);
  });

  it('uses a different width after the first line', () => {
    expect(wrapCells('aa bb cc dd', 5, 2)).toEqual(['aa bb', 'cc', 'dd']);
  });

  it('keeps every character when hard-wrapping the input line', () => {
    const text = 'ab  漢字\ncd';
    const rows = hardWrap(text, 4);
    expect(rows.map((r) => text.slice(r.start, r.end))).toEqual(['ab  ', '漢字', 'cd']);
  });
});

const message = (seq: number, text = `message ${seq}`, nick = 'bob'): Entry => ({
  kind: 'message',
  key: `m${seq}`,
  seq,
  ts: 0,
  nick,
  text,
  self: false,
  mention: false,
});

function room(count: number, extra: Partial<Conversation> = {}): Conversation {
  const entries = Array.from({ length: count }, (_, i) => message(i + 1));
  return {
    ...newConversation('lobby', 'room', 'lobby'),
    entries,
    newestSeq: count,
    oldestSeq: count ? 1 : 0,
    ...extra,
  };
}

const text = (lines: readonly { segments: readonly { text: string }[] }[]) =>
  lines.map((l) => l.segments.map((s) => s.text).join(''));

describe('entry lines', () => {
  it('hangs continuation lines under the text and fits the width', () => {
    const lines = text(entryLines(message(1, 'one two three four five six seven', 'al'), 30));
    expect(lines[0]).toMatch(/^\d\d:\d\d <al> one two three four$/);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines.slice(1)) expect(l).toMatch(/^ {11}\S/);
    for (const l of lines) expect(cellWidth(l)).toBeLessThanOrEqual(30);
  });

  it('gives a nick the same colour every time, case-insensitively', () => {
    expect(nickColor('Alice')).toBe(nickColor('alice'));
    expect(new Set(['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map(nickColor)).size).toBeGreaterThan(
      2,
    );
  });
});

describe('viewport', () => {
  it('shows only the last rows that fit, live at the bottom', () => {
    const view = visibleLines(room(10_000), 80, 5, 'alice');
    expect(view.lines).toHaveLength(5);
    expect(text(view.lines).at(-1)).toMatch(/message 10000$/);
    expect(view.atTop).toBe(false);
  });

  it('shows the header on top of a short conversation', () => {
    const view = visibleLines(room(2), 80, 5, 'alice');
    expect(text(view.lines)[0]).toBe('-- start of #lobby --');
    expect(view.atTop).toBe(true);
  });

  it('scrolls up a page, then back down to live', () => {
    const conv = room(100);
    const up = scrollBy(conv, 80, 10, 9, 'alice');
    expect(up).toEqual({ below: 9, skip: 0 });
    const view = visibleLines({ ...conv, scroll: up }, 80, 10, 'alice');
    expect(text(view.lines).at(-1)).toMatch(/message 91$/);
    expect(scrollBy({ ...conv, scroll: up }, 80, 10, -9, 'alice')).toBeNull();
  });

  it('stops at the header and reports the top', () => {
    const conv = room(30);
    const anchor = scrollBy(conv, 80, 10, 1_000, 'alice');
    const view = visibleLines({ ...conv, scroll: anchor }, 80, 10, 'alice');
    expect(view.atTop).toBe(true);
    expect(text(view.lines)[0]).toMatch(/start of #lobby/);
    expect(view.lines).toHaveLength(10);
    expect(scrollBy({ ...conv, scroll: anchor }, 80, 10, 5, 'alice')).toEqual(anchor);
  });

  it('does not scroll when everything fits', () => {
    expect(scrollBy(room(3), 80, 10, 5, 'alice')).toBeNull();
  });

  it('scrolls by rows inside a long multi-line message', () => {
    const long: Entry = { ...message(2), text: Array.from({ length: 20 }, (_, i) => `row ${i}`).join('\n') };
    const conv = { ...room(1), entries: [message(1), long, message(3)] };
    const anchor = scrollBy(conv, 80, 5, 3, 'alice');
    expect(anchor).toEqual({ below: 1, skip: 2 });
    expect(text(visibleLines({ ...conv, scroll: anchor }, 80, 5, 'alice').lines).at(-1)).toMatch(/row 17$/);
  });

  it('shows unacknowledged messages dimmed at the bottom while live', () => {
    const conv = room(3, { pending: [{ clientMsgId: 'c1', text: 'on its way', ts: 0 }] });
    const last = visibleLines(conv, 80, 5, 'alice').lines.at(-1)!;
    expect(text([last])[0]).toMatch(/<alice> on its way$/);
    expect(last.segments.at(-1)).toMatchObject({ dim: true });
  });
});

describe('input rows', () => {
  const show = (rows: ReturnType<typeof inputRows>) =>
    rows.map((r) => `${r.before}${r.at === null ? '' : `[${r.at}]`}${r.after}`);
  it.each([
    ['the cursor at the end is a block after the text', 'hello', 5, 20, undefined, ['hello[ ]']],
    ['the cursor on a wide character covers all of it', 'a漢b', 1, 20, undefined, ['a[漢]b']],
    ['Alt+Enter lines are rows; the cursor stays on its row', 'one\ntwo', 2, 20, undefined, ['on[e]', 'two']],
    ['a long line wraps without losing characters', 'abcdefgh', 8, 5, undefined, ['abcd', 'efgh[ ]']],
    [
      'a password is masked from the mask index on',
      '/register hunter22',
      18,
      40,
      10,
      ['/register ********[ ]'],
    ],
    [
      'only the last five rows around the cursor show',
      'a\nb\nc\nd\ne\nf\ng',
      13,
      20,
      undefined,
      ['c', 'd', 'e', 'f', 'g[ ]'],
    ],
  ])('%s', (_name, text, cursor, width, mask, expected) => {
    expect(show(inputRows(text, cursor, width, mask))).toEqual(expected);
  });
});

describe('links (issue 15 item 9)', () => {
  it('only http(s), and never a control character in the address', () => {
    expect(safeHref('javascript:alert(1)')).toBeUndefined();
    expect(safeHref('file:///etc/passwd')).toBeUndefined();
    const evil = findLinks('go https://a.example/x\x1b]8;;https://b.example\x07y now');
    expect(evil).toHaveLength(1);
    expect(evil[0]!.href).toMatch(/^[\x21-\x7e]+$/);
    expect(findLinks('(see https://a.example/p).')).toEqual([
      { start: 5, end: 24, href: 'https://a.example/p' },
    ]);
  });
});

describe('scrollStep (a page walked from where the view is)', () => {
  /**
   * The reference: counts the target from the live bottom, as scrolling did before it walked
   * from the view (O(rows scrolled) per PgUp); the step must land on the same anchor.
   */
  function fromBottom(conv: Conversation, width: number, height: number, delta: number) {
    const target = Math.max(0, scrollOffset(conv, width, conv.scroll, 'alice') + delta);
    return target === 0 ? null : scrollBy({ ...conv, scroll: null }, width, height, target, 'alice');
  }

  it('lands where counting from the bottom lands and says how far it moved, hidden entries included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), fc.boolean()), { minLength: 0, maxLength: 40 }),
        fc.array(fc.integer({ min: -25, max: 25 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 2, max: 8 }),
        (shape, deltas, height) => {
          const entries = shape.map(([words, hidden], i): Entry => ({
            ...message(i + 1, Array.from({ length: words }, () => 'word').join(' ')),
            ...(hidden ? { hidden: true } : {}),
          }));
          let conv: Conversation = { ...room(0), entries };
          for (const delta of deltas) {
            const step = scrollStep(conv, 30, height, delta, 'alice');
            const before = scrollOffset(conv, 30, conv.scroll, 'alice');
            expect(step.moved).toBe(scrollOffset(conv, 30, step.anchor, 'alice') - before);
            const expected = fromBottom(conv, 30, height, delta);
            expect(step.anchor).toEqual(expected);
            conv = { ...conv, scroll: step.anchor };
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('cellWidth of emoji sequences', () => {
  it('never counts fewer cells than a terminal that draws each code point apart (tmux, VTE)', () => {
    // tmux 3.3 draws 👍🏽 as 👍 and 🏽, 2 + 2 cells; string-width says 2. A row measured at 2 ran
    // over the nick list's border by two cells.
    expect(cellWidth('👍🏽')).toBe(4);
    expect(cellWidth('ab👍🏽cd')).toBe(8);
    // A ZWJ family: one glyph where supported, three where not.
    expect(cellWidth('👨‍👩‍👧')).toBe(6);
    // Single code points and plain clusters keep their usual widths.
    expect(cellWidth('你好')).toBe(4);
    expect(cellWidth('🇫🇷')).toBe(2);
    expect(cellWidth('é')).toBe(1);
    expect(cellWidth('e\u0301')).toBe(1);
    expect(cellWidth('abc')).toBe(3);
  });

  it('wraps a line holding skin-toned emoji within the width a terminal really draws', () => {
    const text = 'hi 👍🏽👍🏽👍🏽 and a few more words to wrap 👍🏾 here';
    for (const line of wrapCells(text, 12)) {
      const drawn = [...line].reduce((n, cp) => n + cellWidth(cp), 0);
      expect(drawn).toBeLessThanOrEqual(12);
    }
  });
});
