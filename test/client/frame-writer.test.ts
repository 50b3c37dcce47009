import { describe, expect, it } from 'vitest';
import { FrameWriter } from '../../src/client/tui/frame-writer.js';

function writer() {
  const chunks: string[] = [];
  const w = new FrameWriter({ write: (c: string) => chunks.push(c) });
  return { w, chunks };
}

describe('FrameWriter', () => {
  it('paints the first frame whole, then only the rows that changed, addressed absolutely', () => {
    const { w, chunks } = writer();
    w.frame('top\nmiddle\n#lobby> ');
    expect(chunks[0]).toContain('\x1b[2J');
    expect(chunks[0]).toContain('\x1b[3;1H\x1b[2K#lobby> ');
    w.frame('top\nmiddle\n#lobby> h');
    expect(chunks[1]).toBe('\x1b[?2026h\x1b[?25l\x1b[3;1H\x1b[2K#lobby> h\x1b[?25l\x1b[?2026l');
    expect(chunks[1]).not.toContain('top');
  });

  it('places the real cursor where the user types, and moves only it when nothing else changed', () => {
    const { w, chunks } = writer();
    w.setCursor({ row: 2, col: 9 });
    w.frame('a\nb\n#lobby> h');
    expect(chunks[0]!.endsWith('\x1b[3;10H\x1b[?25h\x1b[?2026l')).toBe(true);
    w.setCursor({ row: 2, col: 8 });
    w.frame('a\nb\n#lobby> h');
    expect(chunks[1]).toBe('\x1b[3;9H\x1b[?25h');
    // Same frame, same cursor: nothing at all.
    w.frame('a\nb\n#lobby> h');
    expect(chunks).toHaveLength(2);
  });

  it('clears rows a shorter frame no longer covers, and repaints everything after invalidate()', () => {
    const { w, chunks } = writer();
    w.frame('a\nb\nc');
    w.frame('a');
    expect(chunks[1]).toContain('\x1b[2;1H\x1b[2K');
    expect(chunks[1]).toContain('\x1b[3;1H\x1b[2K');
    w.invalidate();
    w.frame('a');
    expect(chunks[2]).toContain('\x1b[2J\x1b[1;1H\x1b[2Ka');
  });

  it('never ends a row with an erase (that would eat the last cell of a full-width row)', () => {
    const { w, chunks } = writer();
    w.frame('x'.repeat(80));
    w.frame('y'.repeat(80));
    expect(chunks[1]).toContain(`\x1b[2K${'y'.repeat(80)}\x1b[?25l`);
  });
});
