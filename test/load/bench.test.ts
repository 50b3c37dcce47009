import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/load/report.js';
import { spawnChat, type ChatProcess } from '../helpers/chat-process.js';

const BIN = fileURLToPath(new URL('../../bin/chat.js', import.meta.url));
const run = promisify(execFile);

async function bench(args: string[]): Promise<{ report: BenchReport; stderr: string }> {
  const { stdout, stderr } = await run(process.execPath, [BIN, 'bench', '--json', ...args], {
    timeout: 60_000,
  });
  return { report: JSON.parse(stdout) as BenchReport, stderr };
}

/** Not a timing test: the figures only have to be consistent with each other. */
function expectSane(r: BenchReport, clients: number, membersPerRoom: number): void {
  expect(r.connections).toEqual({ held: clients, failed: 0, disconnects: 0 });
  expect(r.errors).toBe(0);
  expect(r.sent).toBeGreaterThan(0);
  expect(r.expected_deliveries).toBe(r.sent * membersPerRoom);
  expect(r.deliveries).toBe(r.expected_deliveries);
  expect(r.latency_ms.count).toBe(r.deliveries);
  expect(r.ack_latency_ms.count).toBe(r.sent);
  expect(r.latency_ms.p50).toBeGreaterThan(0);
  expect(r.latency_ms.p50).toBeLessThanOrEqual(r.latency_ms.p99);
  expect(r.latency_ms.p99).toBeLessThanOrEqual(r.latency_ms.max);
  expect(r.deliveries_per_s).toBeGreaterThan(0);
}

describe('chat bench', () => {
  it('starts its own server, delivers every message to every member and reports the server CPU', async () => {
    const { report, stderr } = await bench(['--clients', '20', '--rate', '20', '--duration', '1']);
    expectSane(report, 20, 20);
    expect(report.sent).toBe(20);
    expect(report.server.origin).toBe('started');
    expect(report.server.store).toBe('sqlite');
    expect(report.server.cpu_us_per_delivery).toBeGreaterThan(0);
    // RSS is sampled, not counted: over 20 connections a collection between the samples can
    // make the difference negative, so only its presence and the samples themselves are checked.
    expect(report.server.rss_kib_before).toBeGreaterThan(0);
    expect(report.server.rss_kib_connected).toBeGreaterThan(0);
    expect(Number.isFinite(report.server.rss_bytes_per_connection)).toBe(true);
    expect(stderr).toMatch(/publish conn 20\/20/);
  });

  describe('against a running server (--url)', () => {
    let server: ChatProcess;
    beforeAll(async () => {
      server = await spawnChat(['--memory']);
    });
    afterAll(async () => {
      await server.stop();
    });

    it('spreads clients over rooms and counts each room’s members as its deliveries', async () => {
      const { report } = await bench([
        '--url',
        server.url,
        '--clients',
        '20',
        '--rooms',
        '2',
        '--publishers',
        '2',
        '--rate',
        '10',
        '--duration',
        '1',
      ]);
      expectSane(report, 20, 10);
      expect(report.server.origin).toBe('external');
      expect(report.server.cpu_us_per_delivery).toBeUndefined();
    });
  });

  it('refuses a server that is not on this machine', async () => {
    await expect(bench(['--url', 'ws://example.com/ws', '--duration', '1'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/only loads this machine/),
    });
  });
});
