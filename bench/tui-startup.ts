/**
 * Start-up of `chat connect` (issue 15): milliseconds from starting the real binary in a tmux
 * window until its first frame is on screen and until the status bar says `connected`, against
 * a `chat serve` of its own. Needs tmux and a build (`npm run build`).
 *
 *   npx vite-node bench/tui-startup.ts [-- --runs 10]
 *
 * The screen is polled every 5 ms, so figures are that much coarse. On a loaded machine they
 * mostly measure the scheduler.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServerProcess } from '../src/load/server-process.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
const BIN = fileURLToPath(new URL('../bin/chat.js', import.meta.url));
const socket = `chat-startup-${process.pid}`;
const tmux = (...args: string[]) =>
  execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });

const dataDir = mkdtempSync(join(tmpdir(), 'chat-startup-'));
const server = await startServerProcess([
  BIN,
  'serve',
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--data-dir',
  dataDir,
  '--log-level',
  'warn',
]);
const firstFrame: number[] = [];
const connected: number[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const config = mkdtempSync(join(tmpdir(), 'chat-startup-xdg-'));
    const started = performance.now();
    tmux(
      'new-session',
      '-d',
      '-s',
      `run${i}`,
      '-x',
      '120',
      '-y',
      '30',
      `env XDG_CONFIG_HOME=${config} ${process.execPath} ${BIN} connect --url ${server.url} --nick startup${i}; sleep 60`,
    );
    let frameAt: number | undefined;
    for (;;) {
      const screen = tmux('capture-pane', '-p', '-t', `run${i}`);
      const now = performance.now() - started;
      if (frameAt === undefined && screen.includes('Rooms')) frameAt = now;
      if (screen.includes('| connected')) {
        firstFrame.push(frameAt ?? now);
        connected.push(now);
        break;
      }
      if (now > 15_000) throw new Error(`run ${i}: not connected after 15 s; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    tmux('kill-session', '-t', `run${i}`);
    rmSync(config, { recursive: true, force: true });
  }
} finally {
  spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) =>
  `median ${median(xs).toFixed(0)} ms, min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}`;
console.log(`chat connect start-up over ${runs} runs (120x30, empty server)`);
console.log(`  first frame: ${fmt(firstFrame)}`);
console.log(`  connected:   ${fmt(connected)}`);
