import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_KB = 4;

export interface ProcessSample {
  at: number;
  /** User + system time of every process in the tree, plus what their reaped children used. */
  cpuSeconds: number;
  /** Sum over the tree (pages shared between processes count once per process). */
  rssKb: number;
  /** Processes in the tree: the root and all its descendants. */
  processes: number;
}

interface ProcStat {
  ppid: number;
  ticks: number;
  rssPages: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces: state is [0], ppid [1],
    // utime [11], stime [12], cutime [13], cstime [14], rss [21].
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    return { ppid: Number(fields[1]), ticks, rssPages: Number(fields[21]) };
  } catch {
    return null;
  }
}

/**
 * The root and every process descending from it. This kernel has no
 * /proc/PID/task/TID/children, so the whole of /proc is scanned for parent ids (a few
 * hundred small reads at most, a fraction of a millisecond).
 */
export function processTree(root: number): Map<number, ProcStat> {
  const tree = new Map<number, ProcStat>();
  const rootStat = readStat(root);
  if (!rootStat) return tree;
  tree.set(root, rootStat);
  const byParent = new Map<number, Array<[number, ProcStat]>>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === root) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const siblings = byParent.get(stat.ppid) ?? [];
    siblings.push([pid, stat]);
    byParent.set(stat.ppid, siblings);
  }
  const queue = [root];
  while (queue.length) {
    for (const [pid, stat] of byParent.get(queue.shift()!) ?? []) {
      tree.set(pid, stat);
      queue.push(pid);
    }
  }
  return tree;
}

/**
 * CPU time and resident memory of a process and all its descendants (a cluster's primary
 * and its workers), read from /proc (Linux). cutime/cstime are included so the total does
 * not drop when a process in the tree exits and is reaped: its time moves to its parent's.
 */
export function sampleProcessTree(root: number): ProcessSample | null {
  const tree = processTree(root);
  if (tree.size === 0) return null;
  let ticks = 0;
  let rssPages = 0;
  for (const stat of tree.values()) {
    ticks += stat.ticks;
    rssPages += stat.rssPages;
  }
  return {
    at: Date.now(),
    cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND,
    rssKb: rssPages * PAGE_KB,
    processes: tree.size,
  };
}

/** Samples a process tree at a fixed interval until stopped. */
export class ProcessMonitor {
  readonly samples: ProcessSample[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly pid: number) {}

  start(intervalMs = 250): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  sample(): ProcessSample | null {
    const s = sampleProcessTree(this.pid);
    if (s) this.samples.push(s);
    return s;
  }

  /** Average CPU use (1.0 = one core) between two times. */
  cpuBetween(from: number, to: number): number {
    const inside = this.samples.filter((s) => s.at >= from && s.at <= to);
    if (inside.length < 2) return NaN;
    const first = inside[0];
    const last = inside[inside.length - 1];
    return (last.cpuSeconds - first.cpuSeconds) / ((last.at - first.at) / 1000);
  }

  /** Highest CPU use over any window of about `windowMs` (1.0 = one core). */
  peakCpu(windowMs = 1000): number {
    let peak = 0;
    for (let i = 0, j = 0; j < this.samples.length; j++) {
      while (this.samples[j].at - this.samples[i].at > windowMs) i++;
      const span = this.samples[j].at - this.samples[i].at;
      if (span >= windowMs / 2)
        peak = Math.max(peak, (this.samples[j].cpuSeconds - this.samples[i].cpuSeconds) / (span / 1000));
    }
    return peak;
  }

  peakRssKb(): number {
    return this.samples.reduce((max, s) => Math.max(max, s.rssKb), 0);
  }

  /** Most processes seen in the tree at once (1 for a single process; primary + workers for a cluster). */
  peakProcesses(): number {
    return this.samples.reduce((max, s) => Math.max(max, s.processes), 0);
  }
}
