import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat (100 on Linux). */
const CLK_TCK = 100;

/** CPU time (user + system) a process has used, in microseconds; undefined off Linux. */
export function cpuMicros(pid: number): number | undefined {
  return statCpuMicros(`/proc/${pid}/stat`);
}

/**
 * CPU time of a process's main thread alone (for Node: the event loop and the JavaScript on it,
 * without V8's and libuv's helper threads), in microseconds; undefined off Linux.
 */
export function mainThreadCpuMicros(pid: number): number | undefined {
  return statCpuMicros(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuMicros(path: string): number | undefined {
  try {
    const stat = readFileSync(path, 'latin1');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1e6) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Resident set size of a process in KiB (VmRSS); undefined off Linux. */
export function rssKiB(pid: number): number | undefined {
  return procNumber(`/proc/${pid}/status`, /^VmRSS:\s+(\d+) kB/m);
}

/** The number `field` (its first group) captures in a /proc file; undefined when unreadable or absent. */
function procNumber(path: string, field: RegExp): number | undefined {
  try {
    const match = field.exec(readFileSync(path, 'latin1'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The soft limit on open files of this process, or undefined when unknown. */
export function openFileLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    if (!match) return undefined;
    return match[1] === 'unlimited' ? Infinity : Number(match[1]);
  } catch {
    return undefined;
  }
}

/**
 * CPU time every process on the machine has used (user + nice + system + irq + softirq + steal
 * from /proc/stat), in microseconds summed over cores; undefined off Linux. Against the server's
 * and the loader's own time it shows how much else was running during a measurement.
 */
export function machineBusyMicros(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return (
      (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1e6) /
      CLK_TCK
    );
  } catch {
    return undefined;
  }
}

/**
 * On a shared machine: waits (up to `maxSeconds`) until everything else running uses under a
 * quarter of a core over 2 s, so neighbours do not decide the latency figures. The bench
 * scripts (bench/fanout.ts, bench/compare.ts) call it before each run.
 */
export async function waitQuiet(maxSeconds: number): Promise<void> {
  const deadline = Date.now() + maxSeconds * 1000;
  while (Date.now() < deadline) {
    const before = machineBusyMicros();
    await new Promise((r) => setTimeout(r, 2000));
    const after = machineBusyMicros();
    if (before === undefined || after === undefined || (after - before) / 2e6 < 0.25) return;
  }
}

/** Write syscalls a process has made (syscw in /proc/<pid>/io); undefined when unreadable. */
export function writeSyscalls(pid: number): number | undefined {
  return procNumber(`/proc/${pid}/io`, /^syscw:\s+(\d+)/m);
}

/**
 * Times a process's main thread went to sleep and was woken again (voluntary_ctxt_switches in
 * /proc/<pid>/status: for Node, event-loop turns that found nothing to do and waited); undefined
 * when unreadable. On a VM each of those wake-ups costs far more than the turn's own work.
 */
export function wakeups(pid: number): number | undefined {
  return procNumber(`/proc/${pid}/status`, /^voluntary_ctxt_switches:\s+(\d+)/m);
}
