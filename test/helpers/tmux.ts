import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when a tmux binary is on the PATH. */
export function hasTmux(): boolean {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** Quotes one word for /bin/sh. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * `chat connect ARGS` (the binary at `bin`) as one shell command in a clean environment: no CI
 * variables (Ink draws nothing when it sees them) and a config directory of its own, never the
 * user's ~/.config/chat and never another client's.
 */
export function cleanConnectCommand(bin: string, args: string[], home = process.env.HOME ?? '/tmp'): string {
  const env = [
    'env',
    '-i',
    `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
    `HOME=${home}`,
    `XDG_CONFIG_HOME=${mkdtempSync(join(tmpdir(), 'chat-xdg-'))}`,
    'TERM=xterm-256color',
    'LANG=C.UTF-8',
  ];
  return [...env, process.execPath, bin, 'connect', ...args].map(shellQuote).join(' ');
}

/**
 * A private tmux server (its own socket, so it never touches the user's sessions) driving real
 * terminal programs: start one per window, send keys, read the screen.
 */
export class Tmux {
  readonly socket = `chat-e2e-${process.pid}-${Date.now().toString(36)}`;

  private run(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  /** Starts `command` (a shell command line) in a detached session `name` of the given size. */
  start(name: string, command: string, columns = 120, rows = 40): void {
    this.run(['new-session', '-d', '-s', name, '-x', String(columns), '-y', String(rows), command]);
  }

  /** Sends tmux key names (`Enter`, `C-n`, `M-2`, `PageUp`). */
  keys(name: string, ...keys: string[]): void {
    this.run(['send-keys', '-t', name, ...keys]);
  }

  /** Types literal text (no key-name lookup). */
  type(name: string, text: string): void {
    this.run(['send-keys', '-t', name, '-l', text]);
  }

  /** Types a line and presses Enter. */
  line(name: string, text: string): void {
    this.type(name, text);
    this.keys(name, 'Enter');
  }

  /** Pastes `text` as a terminal paste would (bracketed when the program asked for it). */
  paste(name: string, text: string): void {
    this.run(['set-buffer', '-b', 'chat-paste', text]);
    this.run(['paste-buffer', '-p', '-d', '-b', 'chat-paste', '-t', name]);
  }

  /** The visible screen of `name`, one string per row. */
  capture(name: string): string {
    return this.run(['capture-pane', '-p', '-t', name]);
  }

  /**
   * Polls the screen until `check` holds; throws with the screen after `timeoutMs`.
   * Polling, not sleeping: it returns the moment the text is there.
   */
  async waitFor(
    name: string,
    check: string | RegExp | ((screen: string) => boolean),
    what: string,
    timeoutMs = 10_000,
  ): Promise<string> {
    const test =
      typeof check === 'string'
        ? (s: string) => s.includes(check)
        : check instanceof RegExp
          ? (s: string) => check.test(s)
          : check;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.capture(name);
      if (test(screen)) return screen;
      if (Date.now() > deadline)
        throw new Error(`${name}: timed out waiting for ${what}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ends every session and the tmux server. */
  killServer(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { stdio: 'ignore' });
  }
}

/** The sidebar part (left of the border) of the screen row that shows `label`. */
export function sidebarRow(screen: string, label: string): string {
  const row = screen.split('\n').find((l) => l.includes('│') && l.split('│')[0]!.includes(label));
  return (row ?? '').split('│')[0]!.trim();
}
