import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A server the benchmark started as a child process, so its CPU and memory can be read apart. */
export interface ServerProcess {
  pid: number;
  /** The first ws:// URL the server printed. */
  url: string;
  /** The port of the IRC door, when the server was asked for one (`chat irc on host:port`). */
  ircPort?: number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** bin/chat.js, found from this module (dist/load/ or src/load/). */
export const CHAT_BIN = fileURLToPath(new URL('../../bin/chat.js', import.meta.url));

/**
 * Starts `node <args>` and resolves once it prints a `ws://` URL on stdout. Its stderr is passed
 * through (servers there print only warnings at the levels the benchmarks ask for).
 */
export function startServerProcess(
  args: string[],
  options: { timeoutMs?: number; nodeArgs?: string[]; irc?: boolean } = {},
): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (graceMs = 5000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return new Promise<ServerProcess>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void stop(0);
      reject(
        new Error(
          `server did not print its URL within ${options.timeoutMs ?? 15_000} ms: ${out.slice(0, 300)}`,
        ),
      );
    }, options.timeoutMs ?? 15_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      const match = /ws:\/\/[^\s)]+/.exec(out);
      const irc = /chat irc on \S+:(\d+)\n/.exec(out);
      if (!match || (options.irc === true && !irc)) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve({ pid: child.pid!, url: match[0], stop, ...(irc ? { ircPort: Number(irc[1]) } : {}) });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`server exited before it was ready (${signal ?? `code ${code}`}): ${out.slice(0, 300)}`),
      );
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
