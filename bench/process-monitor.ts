import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_KB = 4;

export interface ProcessSample {
  at: number;
  cpuSeconds: number;
  rssKb: number;
}

/** CPU time and resident memory of another process, read from /proc (Linux). */
export function sampleProcess(pid: number): ProcessSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const rssPages = Number(fields[21]);
    return { at: Date.now(), cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, rssKb: rssPages * PAGE_KB };
  } catch {
    return null;
  }
}

/** Samples a process at a fixed interval until stopped. */
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
    const s = sampleProcess(this.pid);
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
      if (span >= windowMs / 2) peak = Math.max(peak, (this.samples[j].cpuSeconds - this.samples[i].cpuSeconds) / (span / 1000));
    }
    return peak;
  }

  peakRssKb(): number {
    return this.samples.reduce((max, s) => Math.max(max, s.rssKb), 0);
  }
}
