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
  /** Everything the process wrote to stderr so far (pino JSON lines). */
  stderr(): string;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then waits for the exit: a graceful stop. */
  stop(): Promise<number | string>;
  /** SIGKILL, then waits for the exit: a crash. */
  kill(): Promise<number | string>;
}

/**
 * Starts `node bin/chat.js serve --host 127.0.0.1 --port 0 ...args` and resolves once it printed
 * the line with its address. Rejects (with its stderr) if it exits before.
 */
export function spawnChat(args: string[], timeoutMs = 15_000): Promise<ChatProcess> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--log-level', 'warn', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chat serve did not start in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`chat serve exited (${how}) before listening; stderr: ${stderr}`));
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /chat serving on http:\/\/127\.0\.0\.1:(\d+) \(WebSocket (ws:\/\/\S+)\)/.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      const signalAndWait = (signal: NodeJS.Signals) => () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        return exited;
      };
      resolve({
        child,
        port: Number(match[1]),
        url: match[2]!,
        stderr: () => stderr,
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
