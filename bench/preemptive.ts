import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { endpointedWords, type CallOutcome } from './simulated-call';
import { median, percentile } from './statistics';

/**
 * `npm run bench -- --scenario preemptive`: the platform's endpointing played for real (each
 * turn's final partial transcript, then the stream_request `--endpointing-ms` later, a share
 * `--mismatch-rate` of turns ending on other words than the partial), against the service with
 * preemptive replies off, then on. The fake LLM echoes the caller's last words, so what a caller
 * heard shows which words it answers. Reported: the time from stream_request to the first
 * stream_response on matched turns, the saving as a share of the endpointing delay, preemptive
 * words heard on mismatched turns (must be 0), and what the discarded preemptive replies cost.
 */
export interface PreemptiveBenchOptions {
  endpointingMs: number;
  mismatchRate: number;
  variants: Variant[];
}

type Variant = 'off' | 'on';

/** The scenario's flags, or null when `--scenario preemptive` was not given. */
export function parsePreemptiveOptions(argv: string[]): PreemptiveBenchOptions | null {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0) return argv[i + 1];
    return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const scenario = get('scenario');
  if (scenario === undefined) return null;
  if (scenario !== 'preemptive') throw new Error(`--scenario must be preemptive, not ${scenario}`);
  const endpointingMs = Number(get('endpointing-ms') ?? '500');
  if (!(endpointingMs >= 0)) throw new Error('--endpointing-ms must be a number of ms >= 0');
  const mismatchRate = Number(get('mismatch-rate') ?? '0.2');
  if (!(mismatchRate >= 0 && mismatchRate <= 1)) throw new Error('--mismatch-rate must be a number from 0 to 1');
  const variants: Record<string, Variant[]> = { off: ['off'], on: ['on'], compare: ['off', 'on'] };
  const mode = get('preemptive') ?? 'compare';
  if (!variants[mode]) throw new Error(`--preemptive must be off, on or compare, not ${mode}`);
  return { endpointingMs, mismatchRate, variants: variants[mode] };
}

/** What bench.ts lends: the service under the simulated calls, with `env` added. */
export interface PreemptiveHarness {
  runService(
    env: Record<string, string>,
    repeat: number,
    measure: (outcomes: CallOutcome[], runTag: string) => Promise<void>,
  ): Promise<{ auditComplete: boolean | undefined }>;
  databaseUrl: string;
  firstTokenMs: number;
  resultsDir: string;
  repeat: number;
  log(message: string): void;
}

interface Waits {
  n: number;
  p50: number;
  p90: number;
  p99: number;
}

interface VariantRun {
  variant: Variant;
  repeat: number;
  /** stream_request to the first stream_response, turns whose final words were the partial's. */
  matched: Waits;
  /** The same on turns whose final words differed. */
  mismatched: Waits;
  /** Replies whose text was not the echo of the stream_request's words (must be 0). */
  wrongAnswers: number;
  /** Words heard on mismatched turns that came from a reply to the partial's words (must be 0). */
  preemptiveWordsOnMismatch: number;
  preemptiveExchanges: number;
  savedMsAvg: number | null;
  discarded: Record<string, number>;
  discardedTokens: number;
  discardedTokensEstimated: number;
  auditComplete: boolean | undefined;
}

export async function runPreemptiveBench(options: PreemptiveBenchOptions, harness: PreemptiveHarness): Promise<void> {
  harness.log(
    `preemptive bench: endpointing ${options.endpointingMs} ms, ${Math.round(options.mismatchRate * 100)}% of turns ` +
      `end on other words, fake LLM ${harness.firstTokenMs} ms to first token; variants ${options.variants.join(', ')}`,
  );
  const runs: VariantRun[] = [];
  for (let repeat = 1; repeat <= harness.repeat; repeat++) {
    for (const variant of options.variants) {
      let heard: Omit<VariantRun, keyof Discards | 'auditComplete'> | undefined;
      let tag = '';
      const { auditComplete } = await harness.runService(
        { PREEMPTIVE_REPLIES: variant === 'on' ? 'true' : 'false' },
        repeat,
        (outcomes, runTag) => {
          tag = runTag;
          heard = measureTurns(variant, repeat, outcomes);
          return Promise.resolve();
        },
      );
      if (!heard) throw new Error(`${variant}: no measurement`);
      const run: VariantRun = { ...heard, ...(await discards(harness.databaseUrl, tag)), auditComplete };
      runs.push(run);
      harness.log(
        `[preemptive ${variant}] run ${repeat}: matched p50 ${fmt(run.matched.p50)} ms, ` +
          `preemptive words on mismatched turns ${run.preemptiveWordsOnMismatch}`,
      );
    }
  }
  printReport(runs, options, harness.firstTokenMs);
  const file = join(harness.resultsDir, `preemptive-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ options, firstTokenMs: harness.firstTokenMs, runs }, null, 2));
  harness.log(`results written to ${file}`);
  if (runs.some((r) => r.preemptiveWordsOnMismatch > 0 || r.wrongAnswers > 0 || r.auditComplete === false))
    process.exitCode = 1;
}

function measureTurns(
  variant: Variant,
  repeat: number,
  outcomes: CallOutcome[],
): Omit<VariantRun, keyof Discards | 'auditComplete'> {
  const matched: number[] = [];
  const mismatched: number[] = [];
  let wrongAnswers = 0;
  let preemptiveWords = 0;
  for (const outcome of outcomes) {
    for (const turn of outcome.turns) {
      if (turn.pieceAt.length === 0 || turn.interrupted) continue;
      (turn.mismatch ? mismatched : matched).push(turn.pieceAt[0] - turn.sentAt);
      // The fake echoes the last user turn it was asked with: the text shows which words a reply answers.
      if (turn.text !== `You said: ${turn.said}.`) wrongAnswers++;
      if (turn.mismatch) {
        const partialOnly = endpointedWords(turn.key, false).partial.split(' ').pop()!;
        if (turn.text.includes(partialOnly)) preemptiveWords += turn.text.split(/\s+/).filter(Boolean).length;
      }
    }
  }
  return {
    variant,
    repeat,
    matched: waits(matched),
    mismatched: waits(mismatched),
    wrongAnswers,
    preemptiveWordsOnMismatch: preemptiveWords,
  };
}

type Discards = Pick<
  VariantRun,
  'preemptiveExchanges' | 'savedMsAvg' | 'discarded' | 'discardedTokens' | 'discardedTokensEstimated'
>;

/** What the audit says of the run's preemptive replies: those used, and those discarded with their cost. */
async function discards(databaseUrl: string, runTag: string): Promise<Discards> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const sessions = `${runTag}-%`;
    const { rows: used } = await db.query<{ n: number; saved: number | null }>(
      `SELECT count(*)::int AS n, avg(e.preemption_saved_ms)::float8 AS saved
       FROM stream_exchanges e JOIN call_sessions s ON s.id = e.call_session_id
       WHERE s.session_id LIKE $1 AND e.preemptive`,
      [sessions],
    );
    const { rows } = await db.query<{ reason: string; n: number; tokens: number; estimated: number }>(
      `SELECT ev.payload->>'reason' AS reason, count(*)::int AS n,
              coalesce(sum((ev.payload->>'total_tokens')::int), 0)::int AS tokens,
              coalesce(sum((ev.payload->>'total_tokens')::int) FILTER (WHERE (ev.payload->>'usage_estimated')::boolean), 0)::int AS estimated
       FROM call_events ev JOIN call_sessions s ON s.id = ev.call_session_id
       WHERE s.session_id LIKE $1 AND ev.type = 'preemption_discarded'
       GROUP BY 1 ORDER BY 1`,
      [sessions],
    );
    return {
      preemptiveExchanges: used[0].n,
      savedMsAvg: used[0].saved,
      discarded: Object.fromEntries(rows.map((r) => [r.reason, r.n])),
      discardedTokens: rows.reduce((sum, r) => sum + r.tokens, 0),
      discardedTokensEstimated: rows.reduce((sum, r) => sum + r.estimated, 0),
    };
  } finally {
    await db.end();
  }
}

function waits(values: number[]): Waits {
  return { n: values.length, p50: percentile(values, 50), p90: percentile(values, 90), p99: percentile(values, 99) };
}

function fmt(n: number | null, digits = 0): string {
  return n !== null && Number.isFinite(n) ? n.toFixed(digits) : '-';
}

function printReport(runs: VariantRun[], options: PreemptiveBenchOptions, firstTokenMs: number): void {
  const header = [
    'preemptive',
    'run',
    'matched',
    'p50',
    'p90',
    'p99',
    'mismatched',
    'p50',
    'used',
    'saved avg',
    'discarded',
    'tokens',
    'wrong',
    'words on mismatch',
  ];
  const rows = runs.map((r) => [
    r.variant,
    String(r.repeat),
    String(r.matched.n),
    fmt(r.matched.p50, 1),
    fmt(r.matched.p90, 1),
    fmt(r.matched.p99, 1),
    String(r.mismatched.n),
    fmt(r.mismatched.p50, 1),
    String(r.preemptiveExchanges),
    fmt(r.savedMsAvg),
    Object.entries(r.discarded)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ') || '0',
    `${r.discardedTokens}${r.discardedTokensEstimated ? ` (${r.discardedTokensEstimated} est.)` : ''}`,
    String(r.wrongAnswers),
    String(r.preemptiveWordsOnMismatch),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(
    `\npreemptive replies: endpointing ${options.endpointingMs} ms, fake LLM ${firstTokenMs} ms to first token ` +
      `(ms from stream_request to the first stream_response)\n`,
  );
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  const p50 = (variant: Variant) => median(runs.filter((r) => r.variant === variant).map((r) => r.matched.p50));
  if (options.variants.length === 2) {
    const drop = p50('off') - p50('on');
    const bound = Math.min(options.endpointingMs, firstTokenMs);
    console.log(
      `\nmatched turns, median p50: off ${fmt(p50('off'), 1)} ms, on ${fmt(p50('on'), 1)} ms: the wait drops by ` +
        `${fmt(drop)} ms = ${fmt((100 * drop) / options.endpointingMs)}% of the endpointing delay ` +
        `(at most min(endpointing, time to first token) = ${bound} ms can be saved)`,
    );
  }
}
