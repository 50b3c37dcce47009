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
    expect(chunks[1]).toBe(
      '\x1b[?2026h\x1b[?25l\x1b[?7l\x1b[3;1H\x1b[2K#lobby> h\x1b[?7h\x1b[?25l\x1b[?2026l',
    );
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
    expect(chunks[1]).toContain(`\x1b[2K${'y'.repeat(80)}\x1b[?7h\x1b[?25l`);
  });

  it('draws input rows given apart at the bottom, under the frame, and a keystroke writes only its row', () => {
    const chunks: string[] = [];
    const w = new FrameWriter({ write: (c: string) => chunks.push(c) }, () => 4);
    w.frame('rooms\nmessages\nstatus');
    w.setInput(['#lobby> h'], { row: 3, col: 9 });
    expect(chunks.join('')).toContain('\x1b[4;1H\x1b[2K#lobby> h');
    const before = chunks.length;
    w.setInput(['#lobby> hi'], { row: 3, col: 10 });
    expect(chunks.slice(before)).toEqual([
      '\x1b[?2026h\x1b[?25l\x1b[?7l\x1b[4;1H\x1b[2K#lobby> hi\x1b[?7h\x1b[4;11H\x1b[?25h\x1b[?2026l',
    ]);
    // A two-row input takes the row above; the frame is cut, never pushed off the screen.
    w.setInput(['#lobby> one', '        two'], { row: 3, col: 11 });
    w.frame('rooms\nstatus');
    expect(chunks.join('')).not.toContain('\x1b[5;1H');
    expect(chunks.at(-1)).toContain('\x1b[2;1H\x1b[2Kstatus');
    // After a resize the old frame is never drawn again (at the new width its rows could wrap).
    w.invalidate();
    w.setInput(['#lobby> one'], { row: 3, col: 11 });
    expect(chunks.at(-1)).not.toContain('rooms');
    expect(chunks.at(-1)).toContain('\x1b[2J');
  });

  it('puts the pane over the blank rectangle of the frame; a pane change writes only its cells', () => {
    const chunks: string[] = [];
    const w = new FrameWriter({ write: (c: string) => chunks.push(c) }, () => 4);
    const pane = (a: string, b: string) => ({ top: 0, left: 6, width: 10, rows: [a, b] });
    w.setInput(['#lobby> '], { row: 3, col: 8 }, pane('hello', 'world'));
    w.frame('rooms │          │ nick\n #dev │          │\nstatus');
    expect(chunks.at(-1)).toContain('\x1b[1;1H\x1b[2Krooms │          │ nick\x1b[1;7H\x1b[m\x1b[10Xhello');
    expect(chunks.at(-1)).toContain('\x1b[2;7H\x1b[m\x1b[10Xworld');
    // Only the second pane row changed: the sidebar and nick list beside it are not rewritten.
    w.setInput(['#lobby> '], { row: 3, col: 8 }, pane('hello', 'there'));
    expect(chunks.at(-1)).toBe(
      '\x1b[?2026h\x1b[?25l\x1b[?7l\x1b[2;7H\x1b[m\x1b[10Xthere\x1b[?7h\x1b[4;9H\x1b[?25h\x1b[?2026l',
    );
    // A frame row rewritten whole takes its pane part with it (the erase of the line cleared it).
    w.frame('rooms │          │ bob\n #dev │          │\nstatus');
    expect(chunks.at(-1)).toContain('\x1b[1;1H\x1b[2Krooms │          │ bob\x1b[1;7H\x1b[m\x1b[10Xhello');
    expect(chunks.at(-1)).not.toContain('there');
  });

  it('draws the whole screen from setScreen in one write, and then ignores Ink frames', () => {
    const chunks: string[] = [];
    const w = new FrameWriter({ write: (c: string) => chunks.push(c) }, () => 3);
    const pane = (text: string) => ({ top: 0, left: 4, width: 5, rows: [text] });
    w.setScreen([' #a │', 'status a'], pane('one'), ['#a> '], { row: 2, col: 4 });
    w.setScreen([' #b │', 'status b'], pane('two'), ['#b> '], { row: 2, col: 4 });
    expect(chunks).toHaveLength(2);
    expect(chunks[1]).toContain('\x1b[1;1H\x1b[2K #b │\x1b[1;5H\x1b[m\x1b[5Xtwo');
    expect(chunks[1]).toContain('status b');
    expect(chunks[1]).toContain('#b> ');
    w.frame('something Ink drew');
    expect(chunks).toHaveLength(2);
  });
});
