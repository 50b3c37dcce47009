import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real binary; `npm test` builds dist/ before vitest runs. */
const BIN = fileURLToPath(new URL('../../bin/chat.js', import.meta.url));

/** A `chat serve` child process on 127.0.0.1 and a free port. */
export interface ChatProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** ws://127.0.0.1:port/ws */
  readonly url: string;
  /** The TCP line port, when `--tcp-port` was among the args. */
  readonly tcpPort?: number;
  /** The IRC port, when `--irc-port` was among the args. */
  readonly ircPort?: number;
  /** Everything the process wrote to stderr so far (pino JSON lines). */
  stderr(): string;
  /**
   * Resolves once stderr matches `pattern` (stderr arrives on its own pipe, after stdout's start
   * line maybe); rejects if the process exits first.
   */
  stderrMatches(pattern: RegExp): Promise<void>;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then waits for the exit: a graceful stop. */
  stop(): Promise<number | string>;
  /** SIGKILL, then waits for the exit: a crash. */
  kill(): Promise<number | string>;
}

export interface SpawnOptions {
  /** `--port`; 0 (the default) takes a free one. Set it here, not in args: meow refuses a repeated flag. */
  port?: number;
  /** `--log-level`, `warn` by default; here for the same reason. */
  logLevel?: string;
  /** How long to wait for the start line(s) before SIGKILL and rejecting; 15 s by default. */
  timeoutMs?: number;
  /** Starts it under `ulimit -n fdLimit` (soft and hard: Node cannot raise it back). */
  fdLimit?: number;
  /** Options for node itself, before the script (e.g. `--import` a module). */
  nodeArgs?: string[];
}

/**
 * Starts `node bin/chat.js serve --host 127.0.0.1 --port 0 --log-level warn ...args` and resolves
 * once it printed the line with its address (and, with `--tcp-port` in args, the TCP line).
 * Rejects (with its output) if it exits or times out before.
 */
export function spawnChat(args: string[], options: SpawnOptions = {}): Promise<ChatProcess> {
  const { port = 0, logLevel = 'warn', timeoutMs = 15_000, fdLimit, nodeArgs = [] } = options;
  const wantTcp = args.some((a) => a === '--tcp-port' || a.startsWith('--tcp-port='));
  const wantIrc = args.some((a) => a === '--irc-port' || a.startsWith('--irc-port='));
  const argv = [
    ...nodeArgs,
    BIN,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    logLevel,
    ...args,
  ];
  // With a limit, sh sets it and execs node in its place: the child's pid stays the server's.
  const child =
    fdLimit === undefined
      ? spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('sh', ['-c', `ulimit -n ${fdLimit} && exec "$0" "$@"`, process.execPath, ...argv], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const output = () => `stdout: ${stdout}; stderr: ${stderr}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chat serve did not start in ${timeoutMs} ms; ${output()}`));
    }, timeoutMs);
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`chat serve exited (${how}) before listening; ${output()}`));
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      // "chat serving on http://127.0.0.1:P (WebSocket ws://127.0.0.1:P/ws)", then with --tcp-port
      // "chat tcp on 127.0.0.1:N".
      const http =
        /chat serving on http:\/\/127\.0\.0\.1:(\d+) \(WebSocket (ws:\/\/127\.0\.0\.1:\d+\/ws)\)\n/.exec(
          stdout,
        );
      const tcp = wantTcp ? /chat tcp on 127\.0\.0\.1:(\d+)\n/.exec(stdout) : undefined;
      const irc = wantIrc ? /chat irc on 127\.0\.0\.1:(\d+)\n/.exec(stdout) : undefined;
      if (!http || tcp === null || irc === null) return;
      clearTimeout(timer);
      const signalAndWait = (signal: NodeJS.Signals) => () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        return exited;
      };
      resolve({
        child,
        port: Number(http[1]),
        url: http[2]!,
        ...(tcp ? { tcpPort: Number(tcp[1]) } : {}),
        ...(irc ? { ircPort: Number(irc[1]) } : {}),
        stderr: () => stderr,
        stderrMatches: (pattern) =>
          new Promise<void>((resolveMatch, rejectMatch) => {
            if (pattern.test(stderr)) return resolveMatch();
            const check = (): void => {
              if (!pattern.test(stderr)) return;
              child.stderr!.off('data', check);
              resolveMatch();
            };
            child.stderr!.on('data', check);
            void exited.then((how) =>
              rejectMatch(new Error(`chat serve exited (${how}) before ${pattern}; ${output()}`)),
            );
          }),
        exited,
        stop: signalAndWait('SIGTERM'),
        kill: signalAndWait('SIGKILL'),
      });
    });
  });
}

/** A fresh temporary directory and its remover. */
export function tempDir(prefix = 'chat-e2e-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * The servers and temporary directories of one test file. `cleanup()`, from afterEach, SIGKILLs
 * the servers still running and removes the directories.
 */
export function chatFixtures(): {
  spawn(args: string[], options?: SpawnOptions): Promise<ChatProcess>;
  tempDir(): { path: string; remove(): void };
  cleanup(): Promise<void>;
} {
  const running: ChatProcess[] = [];
  const dirs: { remove(): void }[] = [];
  return {
    async spawn(args, options) {
      const proc = await spawnChat(args, options);
      running.push(proc);
      return proc;
    },
    tempDir() {
      const dir = tempDir();
      dirs.push(dir);
      return dir;
    },
    async cleanup() {
      await Promise.all(running.splice(0).map((p) => p.kill()));
      for (const d of dirs.splice(0)) d.remove();
    },
  };
}
