import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeTimings } from '../dev/fake-llm/fake-llm-scenario';
import type { CallOutcome } from './simulated-call';
import { distribution, Distribution, median } from './statistics';

/**
 * `npm run bench -- --stall-first-tokens 0.2 --failover compare`: the fake LLM holds back the
 * first token of a share of requests (a provider that stalls) and the service runs once per
 * variant, in turn: alone (a stalled turn ends in the fallback when its budget runs out), with
 * a second provider to fail over to, and optionally hedged. Reported: the time from each
 * stream_request to the first words the caller hears, and who answered.
 */
export interface FailoverBenchOptions {
  /** Share of the first provider's first tokens that never come. */
  stallShare: number;
  variants: Variant[];
  /** The first provider's first-token budget (LLM_TIMEOUT_MS), the same in every variant. */
  budgetMs: number;
  hedgeAfterMs: number;
}

type Variant = 'alone' | 'failover' | 'hedged';

/** The failover flags, or null when none was given (the bench runs as it always did). */
export function parseFailoverOptions(argv: string[]): FailoverBenchOptions | null {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0) return argv[i + 1];
    return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const mode = get('failover');
  const stall = get('stall-first-tokens');
  if (mode === undefined && stall === undefined) return null;
  const variants: Record<string, Variant[]> = {
    off: ['alone'],
    on: ['failover'],
    hedged: ['hedged'],
    compare: ['alone', 'failover'],
    all: ['alone', 'failover', 'hedged'],
  };
  if (!variants[mode ?? 'compare']) throw new Error(`--failover must be off, on, hedged, compare or all, not ${mode}`);
  const stallShare = Number(stall ?? '0.2');
  if (!(stallShare >= 0 && stallShare <= 1)) throw new Error('--stall-first-tokens must be a number from 0 to 1');
  return {
    stallShare,
    variants: variants[mode ?? 'compare'],
    budgetMs: Number(get('failover-budget-ms') ?? '1000'),
    hedgeAfterMs: Number(get('hedge-after-ms') ?? '400'),
  };
}

/** Extra arguments of the first provider's fake. */
export function stallingFakeArgs(options: FailoverBenchOptions | null): string[] {
  return options && options.stallShare > 0 ? ['--stall-first-tokens', String(options.stallShare)] : [];
}

/** What bench.ts lends: its way of starting and measuring the service. */
export interface BenchHarness {
  startFake(port: number): Promise<ChildProcess>;
  stopProcess(child: ChildProcess): Promise<void>;
  freePort(): Promise<number>;
  /** Runs the service once with `env` added, calling `measure` with the calls' outcomes before it stops. */
  runService(
    env: Record<string, string>,
    repeat: number,
    measure: (outcomes: CallOutcome[], runTag: string) => Promise<void>,
  ): Promise<{ failedCalls: number }>;
  resultsDir: string;
  repeat: number;
  log(message: string): void;
}

interface VariantRun {
  variant: Variant;
  repeat: number;
  turns: number;
  /** Turns whose first request went to a stalled first token. */
  stalled: number;
  answeredBy: { first: number; second: number; fallback: number };
  /** stream_request to the first stream_response the caller received (the fallback included). */
  firstWordsMs: Distribution;
  /** The same over turns that got an answer (the fallback excluded). */
  firstAnswerMs: Distribution;
  failedCalls: number;
}

export async function runFailoverBench(
  options: FailoverBenchOptions,
  primaryUrl: string,
  harness: BenchHarness,
): Promise<void> {
  const backupPort = await harness.freePort();
  const backup = await harness.startFake(backupPort);
  const backupUrl = `http://127.0.0.1:${backupPort}/v1`;
  harness.log(
    `failover bench: the first provider stalls ${Math.round(options.stallShare * 100)}% of first tokens; ` +
      `budget ${options.budgetMs} ms; variants ${options.variants.join(', ')}${options.variants.includes('hedged') ? `, hedge after ${options.hedgeAfterMs} ms` : ''}`,
  );
  const runs: VariantRun[] = [];
  try {
    for (let repeat = 1; repeat <= harness.repeat; repeat++) {
      for (const variant of options.variants) {
        const env: Record<string, string> = {
          LLM_TIMEOUT_MS: String(options.budgetMs),
          ...(variant === 'alone'
            ? {}
            : {
                LLM_PROVIDERS: JSON.stringify([
                  { name: 'second', base_url: backupUrl, api_key: 'bench', model: 'fake-model' },
                ]),
              }),
          ...(variant === 'hedged' ? { LLM_HEDGE_AFTER_MS: String(options.hedgeAfterMs) } : {}),
        };
        let measured: Omit<VariantRun, 'failedCalls'> | undefined;
        const { failedCalls } = await harness.runService(env, repeat, async (outcomes, runTag) => {
          measured = measure(variant, repeat, outcomes, runTag, await timings(primaryUrl), await timings(backupUrl));
        });
        if (!measured) throw new Error(`${variant}: no measurement`);
        const run = { ...measured, failedCalls };
        runs.push(run);
        harness.log(
          `[${variant}] run ${repeat}: first words p99 ${fmt(run.firstWordsMs.p99)} ms, fallback ${run.answeredBy.fallback}/${run.turns}`,
        );
      }
    }
  } finally {
    await harness.stopProcess(backup);
  }
  printFailoverReport(runs, options);
  const file = join(harness.resultsDir, `failover-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ options, runs }, null, 2));
  harness.log(`results written to ${file}`);
}

async function timings(llmUrl: string): Promise<FakeTimings> {
  return (await (await fetch(`${llmUrl}/__timings`)).json()) as FakeTimings;
}

/** Classifies each measured turn by which fake wrote its first token (matched on the user's words), or none: the fallback. */
function measure(
  variant: Variant,
  repeat: number,
  outcomes: CallOutcome[],
  runTag: string,
  primary: FakeTimings,
  second: FakeTimings,
): Omit<VariantRun, 'failedCalls'> {
  const byKey = (timings: FakeTimings) => {
    const map = new Map<string, FakeTimings['requests'][number]>();
    for (const r of timings.requests) if (r.user.startsWith(runTag)) map.set(r.user.split(' [fake')[0], r);
    return map;
  };
  const first = byKey(primary);
  const backup = byKey(second);
  const firstWords: number[] = [];
  const firstAnswer: number[] = [];
  const answeredBy = { first: 0, second: 0, fallback: 0 };
  let stalled = 0;
  for (const outcome of outcomes) {
    for (const turn of outcome.turns) {
      if (turn.pieceAt.length === 0) continue;
      const heard = turn.pieceAt[0] - turn.sentAt;
      firstWords.push(heard);
      if (first.get(turn.key)?.stalled) stalled++;
      if (first.get(turn.key)?.firstTokenWrittenAt) answeredBy.first++;
      else if (backup.get(turn.key)?.firstTokenWrittenAt) answeredBy.second++;
      else {
        answeredBy.fallback++;
        continue;
      }
      firstAnswer.push(heard);
    }
  }
  return {
    variant,
    repeat,
    turns: firstWords.length,
    stalled,
    answeredBy,
    firstWordsMs: distribution(firstWords),
    firstAnswerMs: distribution(firstAnswer),
  };
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

function printFailoverReport(runs: VariantRun[], options: FailoverBenchOptions): void {
  const header = [
    'variant',
    'run',
    'turns',
    'stalled',
    'by 1st',
    'by 2nd',
    'fallback',
    'words p50',
    'p95',
    'p99',
    'max',
    'answer p99',
  ];
  const rows = runs.map((r) => [
    r.variant,
    String(r.repeat),
    String(r.turns),
    String(r.stalled),
    String(r.answeredBy.first),
    String(r.answeredBy.second),
    String(r.answeredBy.fallback),
    fmt(r.firstWordsMs.p50),
    fmt(r.firstWordsMs.p95),
    fmt(r.firstWordsMs.p99),
    fmt(r.firstWordsMs.max),
    // Without an answer for more than 1% of the turns, there is no p99 to first answer.
    r.answeredBy.fallback / Math.max(1, r.turns) > 0.01 ? 'none' : fmt(r.firstAnswerMs.p99),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(
    `\nfailover: first provider stalls ${Math.round(options.stallShare * 100)}% of first tokens, budget ${options.budgetMs} ms (ms from stream_request to the first words heard)\n`,
  );
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  if (runs.length > options.variants.length) {
    console.log('\nmedian over runs (min-max) of the p99 to first words:');
    for (const variant of options.variants) {
      const p99s = runs.filter((r) => r.variant === variant).map((r) => r.firstWordsMs.p99);
      const fallbacks = runs
        .filter((r) => r.variant === variant)
        .map((r) => r.answeredBy.fallback / Math.max(1, r.turns));
      console.log(
        `  ${variant.padEnd(8)} ${fmt(median(p99s))} ms (${fmt(Math.min(...p99s))}-${fmt(Math.max(...p99s))}), fallback ${fmt(median(fallbacks) * 100, 1)}% of turns`,
      );
    }
  }
}
