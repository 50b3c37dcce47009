/**
 * Saves the window title (XTWINOPS 22, so the client may set its own), switches to the
 * alternate screen (the shell's screen and scrollback stay untouched) and turns on bracketed
 * paste, so a paste arrives marked as one and is never mistaken for typed keys.
 */
const ENTER_ALT_SCREEN = '\x1b[22;0t\x1b[?1049h\x1b[2J\x1b[H\x1b[?2004h';
/** Bracketed paste off, autowrap and the cursor back on, back to the normal screen, the saved title back. */
const LEAVE_ALT_SCREEN = '\x1b[?2004l\x1b[?7h\x1b[?25h\x1b[?1049l\x1b[23;0t';

const SIGNALS = { SIGTERM: 143, SIGHUP: 129 } as const;

/** A full-screen session: call `restore` once (further calls do nothing). */
export interface FullScreen {
  restore(): void;
}

/**
 * Enters the alternate screen and makes sure the terminal is given back however the process
 * ends: a normal return, `process.exit`, SIGTERM/SIGHUP, or a crash. (Ctrl+C is a key in raw
 * mode; the App handles it and returns normally.)
 */
export function enterFullScreen(stream: NodeJS.WriteStream = process.stdout): FullScreen {
  stream.write(ENTER_ALT_SCREEN);
  let restored = false;
  const onExit = () => restore();
  const onSignal = (signal: NodeJS.Signals) => {
    restore();
    process.exit(SIGNALS[signal as keyof typeof SIGNALS] ?? 1);
  };
  const onCrash = (err: unknown) => {
    restore();
    process.stderr.write(`chat: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  };
  function restore(): void {
    if (restored) return;
    restored = true;
    // Raw mode off first, so the shell gets a sane tty even if Ink never unmounted.
    if (process.stdin.isTTY) process.stdin.setRawMode?.(false);
    stream.write(LEAVE_ALT_SCREEN);
    process.off('exit', onExit);
    for (const signal of Object.keys(SIGNALS)) process.off(signal, onSignal);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  }
  process.on('exit', onExit);
  for (const signal of Object.keys(SIGNALS)) process.on(signal, onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  return { restore };
}
