import type { ReactElement } from 'react';
import { render } from 'ink-testing-library';
import { afterEach } from 'vitest';

/** An App drawn by ink-testing-library: its frames and its stdin. */
export type Rendered = ReturnType<typeof render>;

// Named keys, as a terminal sends them. (Ink trims trailing spaces, so prompts are matched without theirs.)
export const ENTER = '\r';
export const ALT_ENTER = '\x1b\r';
export const TAB = '\t';
export const CTRL_C = '\x03';
export const CTRL_N = '\x0e';
export const CTRL_P = '\x10';
export const ALT_2 = '\x1b2';
export const ALT_A = '\x1ba';
export const UP = '\x1b[A';
export const PAGE_UP = '\x1b[5~';
export const END = '\x1b[F';

const SGR = /\x1b\[[0-9;]*m/g;
/** The frame without Ink's colour codes. */
export const plain = (frame: string | undefined): string => (frame ?? '').replace(SGR, '');

/** Polls the last frame until `check` holds; fails after a bounded wait, never sleeps blindly. */
export async function waitForFrame(
  r: Rendered,
  check: (frame: string) => boolean,
  what: string,
  timeoutMs = 2_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = plain(r.lastFrame());
    if (check(frame)) return frame;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last frame:\n${frame}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Writes keys and waits until a new frame was drawn after each. */
export async function press(r: Rendered, ...keys: string[]): Promise<string> {
  for (const key of keys) {
    const before = r.frames.length;
    r.stdin.write(key);
    await waitForFrame(r, () => r.frames.length > before, `a frame after ${JSON.stringify(key)}`);
  }
  return plain(r.lastFrame());
}

/** Types a line and presses Enter. */
export async function typeLine(r: Rendered, line: string): Promise<string> {
  await press(r, line);
  return press(r, ENTER);
}

/** Renders Apps that are unmounted after each test of the file. */
export function useInkApps(): { mount(element: ReactElement): Rendered } {
  const apps: Rendered[] = [];
  afterEach(() => {
    for (const a of apps.splice(0)) a.unmount();
  });
  return {
    mount(element) {
      const r = render(element);
      apps.push(r);
      return r;
    },
  };
}
