import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { connect, createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import type { FakeTimings } from '../dev/fake-llm/fake-llm-scenario';
import { describeError } from '../src/common/describe-error';
import {
  AfterCallOptions,
  afterCallEnv,
  clearAfterCallWork,
  afterCallProgress,
  endShortCalls,
  parseAfterCallOptions,
  registerWebhook,
  WebhookReceiver,
} from './after-call';
import { parseFailoverOptions, runFailoverBench, stallingFakeArgs } from './failover';
import { parsePreemptiveOptions, runPreemptiveBench } from './preemptive';
import { heapAfterGc, heapAfterGcAll, INSPECT_FLAG, InspectorAddresses } from './heap-inspector';
import { processTree, ProcessMonitor, sampleProcessTree } from './process-monitor';
import { CallOutcome, CallProgress, seededRandom, simulateCall } from './simulated-call';
import { distribution, Distribution, median } from './statistics';
import { printProfileSummaries, printProfileSummary } from './profile-summary';
import { renderChart } from './svg-chart';

/**
 * `npm run bench`: the fake LLM, then the built service on real Postgres and the bare
 * relay in turn, each under N simulated Millis calls from this process. Reports how
 * much latency each adds between the LLM's token and the platform, and what it costs.
 */

interface Options {
  calls: number;
  turns: number;
  /** `--duration S`: every call takes turns for S seconds instead of a fixed number. */
  durationS: number | null;
  thinkMs: number;
  tokens: number;
  firstTokenMs: number;
  tokenMs: number;
  interruptRate: number;
  rampMs: number;
  databaseUrl: string;
  targets: Array<'service' | 'relay'>;
  sweep: number[] | null;
  /** Write a V8 CPU profile of the service (bench/results/profiles) and print its hottest functions. */
  profile: boolean;
  /** `--pin`: target on CPU 0, load generator and fake LLM on CPU 1 (isolates the target, but then the
   * load side has one core to itself only, which slows it: off by default). */
  pin: boolean;
  /** `--compare`: service and relay, alternated `repeat` times, then the comparison table. */
  compare: boolean;
  /** `--repeat K`: each target runs K times, alternated (service, relay, service, relay, ...). */
  repeat: number;
  /** With both targets, an unmeasured relay run first (`--no-warmup` skips it). */
  warmup: boolean;
  /** `--workers N`: the service starts with WORKERS=N (node:cluster, a primary and N workers). */
  workers: number | null;
  /** `--scenario preemptive`: the final partial, then the stream_request after the endpointing delay. */
  endpointing: { delayMs: number; mismatchRate: number } | null;
  /** `--after-call on|off`: post-call analysis and webhooks busy during the load (bench/after-call.ts). */
  afterCall: AfterCallOptions | null;
}

interface TargetReport {
  target: 'service' | 'relay';
  /** Which repetition (1-based) of `--repeat`. */
  repeat: number;
  calls: number;
  failedCalls: number;
  turns: number;
  addedFirstTokenMs: Distribution;
  addedPerTokenMs: Distribution;
  addedGapMs: Distribution;
  turnsPerSecond: number;
  framesPerSecond: number;
  cpuCores: number;
  /** CPU seconds of the target's process tree between the first call's start and the last call's last turn. */
  cpuSeconds: number;
  /** Frames the target relayed in that time: stream_response frames the callers received plus frames they sent it. */
  framesRelayed: number;
  /** cpuSeconds / framesRelayed, in microseconds. */
  cpuPerFrameUs: number;
  /** The busiest second of the target (1.0 = one core, all one Node process can use). */
  cpuPeak: number;
  /** Processes the target ran during the load (1; or a cluster's primary + workers). */
  processes: number;
  /** WORKERS given to the service (null: not set). */
  workers: number | null;
  /** Busy share of all the machine's cores during the load (1.0 = saturated). */
  machineBusy: number;
  rssBeforeMb: number;
  rssIdleCallsMb: number;
  rssPeakMb: number;
  rssPerIdleCallKb: number;
  /** JavaScript heap in use after full GCs (DevTools protocol): before the calls, all calls idle, all calls ended. */
  heapBeforeMb: number;
  heapIdleCallsMb: number;
  heapEndedMb: number;
  heapPerIdleCallKb: number;
  /** Why the heap figures are missing, when they are (a process of the cluster could not be read). */
  heapNote?: string;
  audit?: { expected: Record<string, number>; stored: Record<string, number>; complete: boolean; peakBacklog: number };
  wallSeconds: number;
}

const ROOT = resolve(__dirname, '..', '..');
const TARGET_CPU = '0';
const LOAD_CPU = '1';
const DIST = join(ROOT, 'dist');

function parseOptions(argv: string[]): Options {
  const get = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0) return argv[i + 1];
    const eq = argv.find((a) => a.startsWith(`--${name}=`));
    return eq ? eq.slice(name.length + 3) : fallback;
  };
  const compare = argv.includes('--compare');
  const target = compare ? 'both' : get('target', 'both');
  if (!['both', 'service', 'relay'].includes(target))
    throw new Error(`--target must be service or relay, not ${target}`);
  const repeat = Number(get('repeat', '1'));
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a whole number >= 1`);
  const workersFlag = argv.some((a) => a === '--workers' || a.startsWith('--workers='));
  const workers = workersFlag ? Number(get('workers', '')) : null;
  if (workers !== null && (!Number.isInteger(workers) || workers < 1))
    throw new Error(`--workers must be a whole number >= 1`);
  return {
    calls: Number(get('calls', '500')),
    turns: Number(get('turns', '3')),
    durationS: argv.some((a) => a === '--duration' || a.startsWith('--duration='))
      ? Number(get('duration', '60'))
      : null,
    thinkMs: Number(get('think-ms', '3000')),
    tokens: Number(get('tokens', '30')),
    firstTokenMs: Number(get('first-token-ms', '200')),
    tokenMs: Number(get('token-ms', '10')),
    interruptRate: Number(get('interrupt-rate', '0.1')),
    rampMs: Number(get('ramp-ms', '2000')),
    databaseUrl: get(
      'database-url',
      process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/millis_bench',
    ),
    targets: target === 'both' ? ['service', 'relay'] : [target as 'service' | 'relay'],
    profile: argv.includes('--profile'),
    pin: argv.includes('--pin') && cpus().length >= 2,
    sweep: argv.includes('--sweep') ? get('sweep-calls', '50,200,500,1000,2000').split(',').map(Number) : null,
    compare,
    repeat,
    workers,
    warmup: !argv.includes('--no-warmup'),
    endpointing: null,
    afterCall: parseAfterCallOptions(argv),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const preemptive = parsePreemptiveOptions(process.argv.slice(2));
  if (preemptive) {
    // Every turn is answered in full (no interrupts), and the model's first token takes longer than the
    // endpointing delay unless told otherwise, as a hosted model's often does (see bench/README.md).
    options.endpointing = { delayMs: preemptive.endpointingMs, mismatchRate: preemptive.mismatchRate };
    options.interruptRate = 0;
    if (!process.argv.some((a) => a === '--first-token-ms' || a.startsWith('--first-token-ms=')))
      options.firstTokenMs = 600;
  }
  const length = options.durationS === null ? `${options.turns} turns` : `${options.durationS} s of turns`;
  log(
    `bench: ${options.calls} calls x ${length}, think ${options.thinkMs} ms, ${options.tokens} tokens/reply, ` +
      `fake LLM ${options.firstTokenMs} ms to first token + ${options.tokenMs} ms/token` +
      (options.workers === null ? '' : `, service with WORKERS=${options.workers}`) +
      (options.repeat > 1 ? `, ${options.repeat} repetitions (${options.targets.join(', ')} alternated)` : ''),
  );
  if (options.pin && options.workers !== null)
    log('--pin with --workers: the whole cluster shares CPU 0 (workers inherit the affinity)');
  checkFileLimit(Math.max(...(options.sweep ?? [options.calls])));
  await ensureDatabase(options.databaseUrl);
  if (options.pin) execFileSync('taskset', ['-a', '-p', '-c', LOAD_CPU, String(process.pid)], { stdio: 'ignore' });

  const failover = parseFailoverOptions(process.argv.slice(2));
  const fakePort = await freePort();
  const fakeArgs = (port: number) => [
    '--port',
    String(port),
    '--first-token-ms',
    String(options.firstTokenMs),
    '--token-ms',
    String(options.tokenMs),
  ];
  const fake = await startProcess(
    'fake LLM',
    join(DIST, 'dev/fake-llm/fake-llm.main.js'),
    // Under the preemptive scenario the fake echoes the caller's words: a reply shows which words it answers.
    [...fakeArgs(fakePort), ...stallingFakeArgs(failover), ...(preemptive ? ['--echo'] : [])],
    {},
    /listening/,
    [],
    options.pin ? LOAD_CPU : undefined,
  );
  const llmUrl = `http://127.0.0.1:${fakePort}/v1`;
  if (preemptive) {
    // The service with preemptive replies off, then on (bench/preemptive.ts), under the platform's endpointing.
    try {
      mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
      await runPreemptiveBench(preemptive, {
        runService: async (env, repeat, measure) => {
          const report = await runTarget('service', options, llmUrl, repeat, env, measure);
          return { auditComplete: report.audit?.complete };
        },
        databaseUrl: options.databaseUrl,
        firstTokenMs: options.firstTokenMs,
        resultsDir: join(ROOT, 'bench', 'results'),
        repeat: options.repeat,
        log,
      });
    } finally {
      await stopProcess(fake);
    }
    return;
  }
  if (failover) {
    // The service alone, then with a second provider (bench/failover.ts), against a first provider that stalls.
    try {
      await runFailoverBench(failover, llmUrl, {
        startFake: (port) =>
          startProcess(
            'second fake LLM',
            join(DIST, 'dev/fake-llm/fake-llm.main.js'),
            fakeArgs(port),
            {},
            /listening/,
            [],
            options.pin ? LOAD_CPU : undefined,
          ),
        stopProcess,
        freePort,
        log,
        repeat: options.repeat,
        resultsDir: join(ROOT, 'bench', 'results'),
        runService: (env, repeat, measure) => runTarget('service', options, llmUrl, repeat, env, measure),
      });
    } finally {
      await stopProcess(fake);
    }
    return;
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const runs: Array<{ calls: number; reports: TargetReport[]; comparison?: Comparison }> = [];
  try {
    if (options.warmup && options.targets.length > 1) {
      // The first measured run would otherwise pay for the load generator's and the fake LLM's cold JIT
      // (its added latency read 5-10x the next run's); the relay warms them without touching Postgres.
      log('warm-up: the relay, 200 calls x 1 turn, not measured');
      await runTarget(
        'relay',
        { ...options, calls: Math.min(options.calls, 200), turns: 1, durationS: null, profile: false },
        llmUrl,
        0,
      );
    }
    for (const calls of options.sweep ?? [options.calls]) {
      const reports: TargetReport[] = [];
      for (let repeat = 1; repeat <= options.repeat; repeat++) {
        const round: TargetReport[] = [];
        for (const target of options.targets) {
          const report = await runTarget(target, { ...options, calls }, llmUrl, repeat);
          round.push(report);
          reports.push(report);
          if (report.audit && !report.audit.complete)
            log(`[${target}] run ${repeat}: audit rows missing, the bench will fail`);
        }
        printReport(round, { ...options, calls }, repeat);
      }
      const comparison = compareTargets(reports);
      if (comparison) printComparison(comparison, { ...options, calls });
      runs.push({ calls, reports, comparison });
    }
  } finally {
    await stopProcess(fake);
  }
  const file = join(ROOT, 'bench', 'results', `${options.sweep ? 'sweep' : 'bench'}-${stamp}.json`);
  const results = options.sweep ? { runs } : { reports: runs[0].reports, comparison: runs[0].comparison };
  writeFileSync(
    file,
    JSON.stringify({ options: { ...options, databaseUrl: undefined }, machine: machineInfo(), ...results }, null, 2),
  );
  log(`results written to ${file}`);
  if (options.sweep) {
    const chart = join(ROOT, 'bench', 'results', `sweep-${stamp}.svg`);
    writeFileSync(chart, sweepChart(runs));
    log(`chart written to ${chart}`);
  }
  const incomplete = runs.flatMap((r) => r.reports).some((r) => r.audit && !r.audit.complete);
  if (incomplete) process.exitCode = 1;
}

function sweepChart(runs: Array<{ calls: number; reports: TargetReport[] }>): string {
  const series = (target: 'service' | 'relay', value: (r: TargetReport) => number, color: string) => ({
    name: target === 'service' ? 'service' : 'bare relay',
    color,
    points: runs.flatMap((run) =>
      run.reports.filter((r) => r.target === target).map((r) => [run.calls, value(r)] as [number, number]),
    ),
  });
  return renderChart([
    {
      title: 'p99 added latency to first token',
      xLabel: 'concurrent calls',
      yLabel: 'ms',
      series: [
        series('service', (r) => r.addedFirstTokenMs.p99, '#d62728'),
        series('relay', (r) => r.addedFirstTokenMs.p99, '#1f77b4'),
      ],
    },
    {
      title: 'peak RSS',
      xLabel: 'concurrent calls',
      yLabel: 'MB',
      series: [series('service', (r) => r.rssPeakMb, '#d62728'), series('relay', (r) => r.rssPeakMb, '#1f77b4')],
    },
  ]);
}

async function runTarget(
  target: 'service' | 'relay',
  options: Options,
  llmUrl: string,
  repeat: number,
  extraEnv: Record<string, string> = {},
  measure?: (outcomes: CallOutcome[], runTag: string) => Promise<void>,
): Promise<TargetReport> {
  const port = await freePort();
  const workers = target === 'service' ? options.workers : null;
  const env: Record<string, string> = {
    PORT: String(port),
    OPENAI_BASE_URL: llmUrl,
    OPENAI_API_KEY: 'bench',
    OPENAI_MODEL: 'fake-model',
    GREETING: 'Hello, thanks for calling. How can I help?',
    DATABASE_URL: options.databaseUrl,
    LOG_LEVEL: 'warn',
    // The benchmark measures load, not admission control.
    MAX_CALLS: String(Math.max(1000, options.calls * 2)),
    ...(workers === null ? {} : { WORKERS: String(workers) }),
    ...(target === 'service' && options.afterCall ? afterCallEnv(options.afterCall) : {}),
    ...extraEnv,
  };
  if (target === 'service' && options.afterCall) await clearAfterCallWork(options.databaseUrl);
  const script = target === 'service' ? join(DIST, 'src/main.js') : join(DIST, 'bench/bare-relay.js');
  const stamp = Date.now();
  // A cluster's workers inherit the primary's flags: one fixed profile name would have them
  // overwrite each other's, so they get a directory of their own and Node's default names (with the pid).
  const profileDir = join(ROOT, 'bench', 'results', 'profiles', ...(workers === null ? [] : [`${target}-${stamp}`]));
  const profileName = workers === null ? ['--cpu-prof-name', `${target}-${stamp}.cpuprofile`] : [];
  const profileFlags = options.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir, ...profileName] : [];
  // The DevTools endpoint is how heap after GC is read: idle unless a measurement is attached.
  // Cluster workers inherit it and each get a port of their own (see InspectorAddresses).
  const nodeFlags = [INSPECT_FLAG, ...profileFlags];
  const inspectors = new InspectorAddresses();
  const child = await startProcess(
    target,
    script,
    [],
    env,
    undefined,
    nodeFlags,
    options.pin ? TARGET_CPU : undefined,
    (text) => inspectors.feed(text),
  );
  await waitForPort(port, child);
  if (target === 'service') await waitForHealthReady(port, child);
  if (workers !== null) {
    const processes = await waitForStartUp(child.pid!, workers);
    log(
      `[${target}] WORKERS=${workers}: ${processes} process${processes === 1 ? '' : 'es'} running` +
        (processes < workers + 1
          ? ' (no cluster: the service runs one process)'
          : ` (primary + ${processes - 1} workers)`),
    );
  }
  if (inspectors.urls.length === 0) throw new Error(`${target}: no DevTools address in its output`);
  // Heap after GC: one process, or the sum over every process of a cluster (each read in
  // turn), but only when every process in the tree exposes an address that answers.
  const readHeap = async (): Promise<number> => {
    if (workers === null) return heapAfterGc(inspectors.urls[0]);
    const processes = processTree(child.pid!).size;
    if (inspectors.urls.length !== processes) return NaN;
    return heapAfterGcAll(inspectors.urls);
  };
  const monitor = new ProcessMonitor(child.pid!);
  monitor.start();
  const runTag = `bench-${target}-${stamp}`;
  const url = `ws://127.0.0.1:${port}/llm-websocket`;
  const afterCall = target === 'service' ? options.afterCall : null;
  const receiver = afterCall?.on ? new WebhookReceiver() : null;
  if (afterCall) {
    if (receiver) await registerWebhook(port, await receiver.start());
    log(
      `[${target}] after-call ${afterCall.on ? 'on' : 'off'}: ${afterCall.burstCalls} short calls end before the load`,
    );
    await endShortCalls(url, runTag, afterCall.burstCalls);
  }
  const progress: CallProgress = {
    connected: 0,
    greeted: 0,
    turnsDone: 0,
    holding: 0,
    framesSent: 0,
    framesReceived: 0,
  };
  const random = seededRandom(42);
  const started = Date.now();
  await sleep(300);
  const heapBefore = await readHeap();
  // After the collection: the memory it gives back would otherwise count against the idle calls.
  const rssBeforeKb = monitor.sample()?.rssKb ?? NaN;

  const ticker = setInterval(() => {
    const planned = options.durationS === null ? `/${options.calls * options.turns}` : '';
    log(
      `[${target}] connected ${progress.connected}/${options.calls}, greeted ${progress.greeted}, turns ${progress.turnsDone}${planned}`,
    );
  }, 1000);
  let rssIdleKb = NaN;
  const idleProbe = (async () => {
    // All calls connected and greeted, none in a turn yet: the idle footprint (no GC, no pause).
    while (progress.greeted < options.calls && Date.now() - started < 60_000) await sleep(20);
    rssIdleKb = monitor.sample()?.rssKb ?? NaN;
  })();
  // Heap after GC with every call idle is read after the load, calls still open, so the
  // collection pauses no measured turn and the first turns are not lined up behind it.
  let hangUp!: () => void;
  const hangUpAfter = new Promise<void>((resolve) => (hangUp = resolve));

  const machineBefore = machineCpu();
  const loadStart = Date.now();
  // CPU per frame is read from these two samples, taken exactly at the ends of the load.
  const cpuAtStart = monitor.sample();
  const calls = Promise.all(
    Array.from({ length: options.calls }, async (_, index) => {
      await sleep((index / options.calls) * options.rampMs);
      return simulateCall(
        {
          url,
          sessionId: `${runTag}-${index}`,
          index,
          turns: options.turns,
          deadline: options.durationS === null ? undefined : started + options.rampMs + options.durationS * 1000,
          thinkMs: options.thinkMs,
          tokensPerReply: options.tokens,
          interruptRate: options.interruptRate,
          interruptAfterPieces: 5,
          hangUpAfter,
          endpointing: options.endpointing ?? undefined,
        },
        progress,
        random,
      );
    }),
  );
  while (progress.holding < options.calls) await sleep(20);
  const loadEnd = Date.now();
  const cpuAtEnd = monitor.sample();
  const framesRelayed = progress.framesSent + progress.framesReceived;
  const machineAfter = machineCpu();
  clearInterval(ticker);
  await idleProbe;
  const heapIdle = await readHeap().catch(() => NaN);
  hangUp();
  const outcomes: CallOutcome[] = await calls;
  await measure?.(outcomes, runTag);

  const timings = await fetchTimings(llmUrl);
  const processes = monitor.peakProcesses();
  const audit =
    target === 'service' ? await checkAudit(port, options.databaseUrl, runTag, outcomes, processes) : undefined;
  if (afterCall) {
    const work = await afterCallProgress(options.databaseUrl, runTag, receiver, 120_000);
    log(
      `[${target}] after-call: ${work.analysesAtEnd} analyses done when the load ended, ${work.analysesDone} ` +
        `(${work.failed} failed) ${work.drainMs} ms later; ${work.webhooksReceived} webhook deliveries received`,
    );
    await receiver?.stop();
  }
  // What the calls left behind once they ended (for the service, once the audit has drained too).
  const heapEnded = await readHeap().catch(() => NaN);
  monitor.stop();
  await stopProcess(child);
  if (options.profile) {
    if (workers === null) printProfileSummary(profileDir, target);
    else printProfileSummaries(profileDir);
  }

  const cpuSeconds = cpuAtStart && cpuAtEnd ? cpuAtEnd.cpuSeconds - cpuAtStart.cpuSeconds : NaN;
  const loadSeconds = (loadEnd - loadStart) / 1000;
  const report = summarise(target, outcomes, timings, runTag, {
    cpuCores: cpuSeconds / loadSeconds,
    cpuSeconds,
    framesRelayed,
    cpuPeak: monitor.peakCpu(),
    processes,
    machineBusy: (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
    rssBeforeKb,
    rssIdleKb,
    rssPeakKb: monitor.peakRssKb(),
    heapBefore,
    heapIdle,
    heapEnded,
    loadSeconds,
  });
  report.repeat = repeat;
  report.workers = workers;
  if (workers !== null && ![heapBefore, heapIdle, heapEnded].every(Number.isFinite)) {
    report.heapNote =
      `not every process of the cluster could be read (${inspectors.urls.length} DevTools addresses, ` +
      `${processes} processes, ${inspectors.failed} inspector start-ups failed)`;
  }
  report.audit = audit;
  report.wallSeconds = (Date.now() - started) / 1000;
  return report;
}

function summarise(
  target: 'service' | 'relay',
  outcomes: CallOutcome[],
  timings: FakeTimings,
  runTag: string,
  usage: {
    cpuCores: number;
    cpuSeconds: number;
    framesRelayed: number;
    cpuPeak: number;
    processes: number;
    machineBusy: number;
    rssBeforeKb: number;
    rssIdleKb: number;
    rssPeakKb: number;
    /** Bytes. */
    heapBefore: number;
    heapIdle: number;
    heapEnded: number;
    loadSeconds: number;
  },
): TargetReport {
  const byKey = new Map(
    timings.requests.filter((r) => r.user.startsWith(runTag)).map((r) => [r.user.split(' [fake')[0], r]),
  );
  const firstToken: number[] = [];
  const perToken: number[] = [];
  const gaps: number[] = [];
  let turns = 0;
  for (const outcome of outcomes) {
    for (const turn of outcome.turns) {
      const upstream = byKey.get(turn.key);
      if (!upstream?.firstTokenWrittenAt || turn.pieceAt.length === 0) continue;
      turns++;
      firstToken.push(turn.pieceAt[0] - upstream.firstTokenWrittenAt);
      const n = Math.min(turn.pieceAt.length, upstream.tokenWrittenAt.length);
      for (let k = 0; k < n; k++) {
        perToken.push(turn.pieceAt[k] - upstream.tokenWrittenAt[k]);
        if (k > 0)
          gaps.push(
            turn.pieceAt[k] - turn.pieceAt[k - 1] - (upstream.tokenWrittenAt[k] - upstream.tokenWrittenAt[k - 1]),
          );
      }
    }
  }
  const frames = outcomes.reduce((sum, o) => sum + o.framesSent + o.framesReceived, 0);
  const calls = outcomes.length;
  return {
    target,
    repeat: 1,
    calls,
    failedCalls: outcomes.filter((o) => o.error).length,
    turns,
    addedFirstTokenMs: distribution(firstToken),
    addedPerTokenMs: distribution(perToken),
    addedGapMs: distribution(gaps),
    turnsPerSecond: turns / usage.loadSeconds,
    framesPerSecond: frames / usage.loadSeconds,
    cpuCores: usage.cpuCores,
    cpuSeconds: usage.cpuSeconds,
    framesRelayed: usage.framesRelayed,
    cpuPerFrameUs: (usage.cpuSeconds / usage.framesRelayed) * 1e6,
    cpuPeak: usage.cpuPeak,
    processes: usage.processes,
    workers: null,
    machineBusy: usage.machineBusy,
    rssBeforeMb: usage.rssBeforeKb / 1024,
    rssIdleCallsMb: usage.rssIdleKb / 1024,
    rssPeakMb: usage.rssPeakKb / 1024,
    rssPerIdleCallKb: (usage.rssIdleKb - usage.rssBeforeKb) / calls,
    heapBeforeMb: usage.heapBefore / 2 ** 20,
    heapIdleCallsMb: usage.heapIdle / 2 ** 20,
    heapEndedMb: usage.heapEnded / 2 ** 20,
    heapPerIdleCallKb: (usage.heapIdle - usage.heapBefore) / 1024 / calls,
    wallSeconds: 0,
  };
}

/**
 * Waits for the service's write-behind to drain, then counts this run's rows in Postgres.
 *
 * Each process of a cluster has its own audit backlog and answers /health/live for itself
 * alone, and a keep-alive connection would always reach the same worker. So every probe
 * opens a connection of its own (a cluster hands each new connection to the next worker),
 * and the audit counts as drained once two probes per process in a row found no call and
 * no row pending. The rows are then counted until they match, or until the counts have not
 * moved for 3 s, so rows from a worker the probes happened to miss are still waited for.
 */
async function checkAudit(
  port: number,
  databaseUrl: string,
  runTag: string,
  outcomes: CallOutcome[],
  processes: number,
) {
  let peakBacklog = 0;
  const probesInARow = 2 * Math.max(1, processes);
  const drainDeadline = Date.now() + 30_000;
  for (let quiet = 0; quiet < probesInARow && Date.now() < drainDeadline;) {
    try {
      const live = (await getJson(port, '/health/live')) as {
        activeCalls: number;
        audit: { backlog: number; peakBacklog: number };
      };
      // Per process: with a cluster, the highest any worker reported.
      peakBacklog = Math.max(peakBacklog, live.audit.peakBacklog);
      if (live.audit.backlog === 0 && live.activeCalls === 0) {
        quiet++;
        continue;
      }
    } catch {
      // A worker that does not answer has not drained.
    }
    quiet = 0;
    await sleep(100);
  }
  await sleep(300);
  const expected = {
    sessions: outcomes.length,
    exchanges: outcomes.reduce((sum, o) => sum + 1 + o.turns.length, 0),
    events: outcomes.reduce((sum, o) => sum + o.partialsSent + o.interruptsSent, 0),
  };
  const isComplete = (stored: Record<string, number>) => Object.entries(expected).every(([k, v]) => stored[k] === v);
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const count = async () => {
      const { rows } = await db.query(
        `SELECT (SELECT count(*)::int FROM call_sessions WHERE session_id LIKE $1) AS sessions,
                (SELECT count(*)::int FROM stream_exchanges e JOIN call_sessions s ON s.id = e.call_session_id WHERE s.session_id LIKE $1) AS exchanges,
                (SELECT count(*)::int FROM call_events v JOIN call_sessions s ON s.id = v.call_session_id
                 WHERE s.session_id LIKE $1 AND v.type <> 'preemption_discarded') AS events`,
        [`${runTag}-%`],
      );
      return rows[0] as Record<string, number>;
    };
    let stored = await count();
    for (let movedAt = Date.now(); !isComplete(stored) && Date.now() - movedAt < 3_000;) {
      await sleep(250);
      const next = await count();
      if (JSON.stringify(next) !== JSON.stringify(stored)) movedAt = Date.now();
      stored = next;
    }
    return { expected, stored, complete: isComplete(stored), peakBacklog };
  } finally {
    await db.end();
  }
}

/** GET on a connection of its own (no keep-alive): with a cluster, each request may reach another worker. */
function getJson(port: number, path: string, timeoutMs = 5_000): Promise<unknown> {
  return new Promise((resolvePromise, reject) => {
    const request = httpGet({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        if (response.statusCode !== 200)
          return reject(new Error(`GET ${path}: ${response.statusCode} ${body.slice(0, 200)}`));
        try {
          resolvePromise(JSON.parse(body));
        } catch (error) {
          reject(new Error(`GET ${path}: ${describeError(error)}`, { cause: error }));
        }
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

async function fetchTimings(llmUrl: string): Promise<FakeTimings> {
  const response = await fetch(`${llmUrl}/__timings`);
  return (await response.json()) as FakeTimings;
}

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

function printReport(reports: TargetReport[], options: Options, repeat: number): void {
  // With a cluster, a heap figure is the sum over every process, or missing if one could not be read.
  const heap = (r: TargetReport, n: number) =>
    !Number.isFinite(n) && r.workers !== null ? 'n/a (workers)' : fmt(n, 1);
  const rows: Array<[string, (r: TargetReport) => string]> = [
    [
      'processes (primary + workers)',
      (r) => (r.workers === null ? String(r.processes) : `${r.processes} (WORKERS=${r.workers})`),
    ],
    ['turns measured', (r) => String(r.turns)],
    ['failed calls', (r) => String(r.failedCalls)],
    ['added latency to first token p50 (ms)', (r) => fmt(r.addedFirstTokenMs.p50, 3)],
    ['added latency to first token p95 (ms)', (r) => fmt(r.addedFirstTokenMs.p95, 3)],
    ['added latency to first token p99 (ms)', (r) => fmt(r.addedFirstTokenMs.p99, 3)],
    ['added latency to first token max (ms)', (r) => fmt(r.addedFirstTokenMs.max, 3)],
    ['relay delay per token p50 (ms)', (r) => fmt(r.addedPerTokenMs.p50, 3)],
    ['relay delay per token p99 (ms)', (r) => fmt(r.addedPerTokenMs.p99, 3)],
    ['inter-token gap added p50 (ms)', (r) => fmt(r.addedGapMs.p50, 3)],
    ['inter-token gap added p99 (ms)', (r) => fmt(r.addedGapMs.p99, 3)],
    ['turns/s', (r) => fmt(r.turnsPerSecond, 1)],
    ['frames/s (both directions)', (r) => fmt(r.framesPerSecond, 0)],
    ['frames relayed during load', (r) => String(r.framesRelayed)],
    ['CPU during load (cores)', (r) => fmt(r.cpuCores, 2)],
    ['CPU per relayed frame (us)', (r) => fmt(r.cpuPerFrameUs, 1)],
    ['CPU of the busiest second (cores)', (r) => fmt(r.cpuPeak, 2)],
    ['machine busy during load (all cores)', (r) => `${fmt(100 * r.machineBusy, 0)}%`],
    ['RSS before calls (MB)', (r) => fmt(r.rssBeforeMb, 1)],
    ['RSS with all calls idle (MB)', (r) => fmt(r.rssIdleCallsMb, 1)],
    ['RSS peak (MB)', (r) => fmt(r.rssPeakMb, 1)],
    ['RSS per idle call (KB)', (r) => fmt(r.rssPerIdleCallKb, 1)],
    ['heap after GC before calls (MB)', (r) => heap(r, r.heapBeforeMb)],
    ['heap after GC, all calls idle (MB)', (r) => heap(r, r.heapIdleCallsMb)],
    ['heap after GC, all calls ended (MB)', (r) => heap(r, r.heapEndedMb)],
    ['heap per idle call (KB)', (r) => heap(r, r.heapPerIdleCallKb)],
    [
      'audit rows expected = stored',
      (r) => (r.audit ? `${r.audit.complete ? 'yes' : 'NO'} ${JSON.stringify(r.audit.stored)}` : 'n/a'),
    ],
    ['audit backlog peak (rows)', (r) => (r.audit ? String(r.audit.peakBacklog) : 'n/a')],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const run = options.repeat > 1 ? `, run ${repeat} of ${options.repeat}` : '';
  console.log(
    `\n${options.calls} concurrent calls, ${options.durationS === null ? `${options.turns} turns each` : `${options.durationS} s of turns each`}${run}\n`,
  );
  console.log(`${'metric'.padEnd(width)}  ${reports.map((r) => r.target.padStart(14)).join('  ')}`);
  for (const [label, value] of rows)
    console.log(`${label.padEnd(width)}  ${reports.map((r) => value(r).padStart(14)).join('  ')}`);
  for (const r of reports) if (r.heapNote) console.log(`${r.target}: heap n/a: ${r.heapNote}`);
  const service = reports.find((r) => r.target === 'service');
  const relay = reports.find((r) => r.target === 'relay');
  if (service && relay) {
    console.log(
      `\nservice / bare relay, added latency to first token: p50 ${fmt(service.addedFirstTokenMs.p50 / relay.addedFirstTokenMs.p50)}x, ` +
        `p99 ${fmt(service.addedFirstTokenMs.p99 / relay.addedFirstTokenMs.p99)}x, ` +
        `CPU per relayed frame ${fmt(service.cpuPerFrameUs / relay.cpuPerFrameUs)}x`,
    );
  }
}

interface Spread {
  median: number;
  min: number;
  max: number;
}

interface Comparison {
  repetitions: number;
  /** One row per run, in the order they ran. */
  runs: Array<{
    target: 'service' | 'relay';
    repeat: number;
    addedFirstTokenP50Ms: number;
    addedFirstTokenP99Ms: number;
    cpuPerFrameUs: number;
    cpuSeconds: number;
    framesRelayed: number;
    processes: number;
    auditComplete: boolean | null;
  }>;
  /** Per target, over its runs. */
  service: { addedFirstTokenP50Ms: Spread; addedFirstTokenP99Ms: Spread; cpuPerFrameUs: Spread };
  relay: { addedFirstTokenP50Ms: Spread; addedFirstTokenP99Ms: Spread; cpuPerFrameUs: Spread };
  /**
   * service / relay: `median` is the service's median over its runs divided by the relay's;
   * `min` and `max` are the lowest and highest ratio of one repetition's service run to the
   * relay run next to it.
   */
  ratios: { addedFirstTokenP50: Spread; addedFirstTokenP99: Spread; cpuPerFrame: Spread };
}

type ComparedMetric = 'addedFirstTokenP50Ms' | 'addedFirstTokenP99Ms' | 'cpuPerFrameUs';

/** The comparison over all repetitions, when both targets ran. */
function compareTargets(reports: TargetReport[]): Comparison | undefined {
  const runs = reports.map((r) => ({
    target: r.target,
    repeat: r.repeat,
    addedFirstTokenP50Ms: r.addedFirstTokenMs.p50,
    addedFirstTokenP99Ms: r.addedFirstTokenMs.p99,
    cpuPerFrameUs: r.cpuPerFrameUs,
    cpuSeconds: r.cpuSeconds,
    framesRelayed: r.framesRelayed,
    processes: r.processes,
    auditComplete: r.audit ? r.audit.complete : null,
  }));
  const of = (target: 'service' | 'relay') => runs.filter((r) => r.target === target);
  if (of('service').length === 0 || of('relay').length === 0) return undefined;
  const spread = (values: number[]): Spread => {
    const finite = values.filter(Number.isFinite);
    return {
      median: median(finite),
      min: finite.length ? Math.min(...finite) : NaN,
      max: finite.length ? Math.max(...finite) : NaN,
    };
  };
  const perTarget = (target: 'service' | 'relay') => ({
    addedFirstTokenP50Ms: spread(of(target).map((r) => r.addedFirstTokenP50Ms)),
    addedFirstTokenP99Ms: spread(of(target).map((r) => r.addedFirstTokenP99Ms)),
    cpuPerFrameUs: spread(of(target).map((r) => r.cpuPerFrameUs)),
  });
  const service = perTarget('service');
  const relay = perTarget('relay');
  const ratio = (metric: ComparedMetric): Spread => {
    const paired = of('service').flatMap((s) => {
      const r = of('relay').find((x) => x.repeat === s.repeat);
      return r ? [s[metric] / r[metric]] : [];
    });
    const pairs = spread(paired);
    return { median: service[metric].median / relay[metric].median, min: pairs.min, max: pairs.max };
  };
  return {
    repetitions: Math.max(...runs.map((r) => r.repeat)),
    runs,
    service,
    relay,
    ratios: {
      addedFirstTokenP50: ratio('addedFirstTokenP50Ms'),
      addedFirstTokenP99: ratio('addedFirstTokenP99Ms'),
      cpuPerFrame: ratio('cpuPerFrameUs'),
    },
  };
}

function printComparison(comparison: Comparison, options: Options): void {
  const length = options.durationS === null ? `${options.turns} turns` : `${options.durationS} s of turns`;
  const workers = options.workers === null ? '' : `, service WORKERS=${options.workers}`;
  console.log(
    `\ncomparison: ${options.calls} calls x ${length}, think ${options.thinkMs} ms, ` +
      `${comparison.repetitions} repetition${comparison.repetitions === 1 ? '' : 's'}${workers}\n`,
  );
  const header = ['target', 'run', 'p50 (ms)', 'p99 (ms)', 'CPU/frame (us)', 'CPU (s)', 'frames', 'procs', 'audit'];
  const table: string[][] = comparison.runs.map((r) => [
    r.target,
    String(r.repeat),
    fmt(r.addedFirstTokenP50Ms, 3),
    fmt(r.addedFirstTokenP99Ms, 2),
    fmt(r.cpuPerFrameUs, 1),
    fmt(r.cpuSeconds, 2),
    String(r.framesRelayed),
    String(r.processes),
    r.auditComplete === null ? '-' : r.auditComplete ? 'complete' : 'MISSING',
  ]);
  if (comparison.repetitions > 1) {
    for (const target of ['service', 'relay'] as const) {
      const t = comparison[target];
      table.push([
        target,
        'median',
        fmt(t.addedFirstTokenP50Ms.median, 3),
        fmt(t.addedFirstTokenP99Ms.median, 2),
        fmt(t.cpuPerFrameUs.median, 1),
        '',
        '',
        '',
        '',
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < 2 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  for (const row of table) console.log(line(row));
  const ratio = (s: Spread) =>
    comparison.repetitions > 1 ? `${fmt(s.median)}x (${fmt(s.min)}-${fmt(s.max)}x)` : `${fmt(s.median)}x`;
  console.log(
    `\nservice / relay, from the medians${comparison.repetitions > 1 ? ' (min-max of the per-repetition ratios)' : ''}:`,
  );
  console.log(`  added latency to first token p50  ${ratio(comparison.ratios.addedFirstTokenP50)}`);
  console.log(`  added latency to first token p99  ${ratio(comparison.ratios.addedFirstTokenP99)}`);
  console.log(`  CPU per relayed frame             ${ratio(comparison.ratios.cpuPerFrame)}`);
}

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const db = new Client({ connectionString: admin.toString() });
  await db.connect();
  try {
    const { rowCount } = await db.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await db.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await db.end();
  }
}

/** Starts a node script; resolves at once, or when `ready` appears in its output. Its errors are shown. */
function startProcess(
  name: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  ready?: RegExp,
  nodeFlags: string[] = [],
  cpu?: string,
  onOutput?: (text: string) => void,
): Promise<ChildProcess> {
  const command = [process.execPath, ...nodeFlags, script, ...args];
  const [file, ...argv] = cpu === undefined ? command : ['taskset', '-c', cpu, ...command];
  const child = spawn(file, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s`)), 60_000);
    const onData = (data: Buffer) => {
      const text = data.toString();
      onOutput?.(text);
      if (/error|warn/i.test(text)) process.stderr.write(`[${name}] ${text}`);
      if (ready?.test(text)) {
        clearTimeout(timer);
        resolvePromise(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
    if (!ready) {
      clearTimeout(timer);
      resolvePromise(child);
    }
  });
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolvePromise) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolvePromise(true);
      });
      socket.once('error', () => resolvePromise(false));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`nothing listening on ${port} after 60 s`);
}

/**
 * The service answers GET /health/ready with 200 once it can take calls (Postgres answers).
 * With a cluster the request goes to whichever worker the primary hands the connection to:
 * it proves one worker is ready, not all of them (see waitForStartUp).
 */
async function waitForHealthReady(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}`);
    try {
      await getJson(port, '/health/ready');
      return;
    } catch (error) {
      last = describeError(error);
    }
    await sleep(200);
  }
  throw new Error(`/health/ready did not answer 200 within 60 s: ${last}`);
}

/**
 * With a cluster, the port opens as soon as the first worker listens (the primary holds the
 * socket and hands connections to the workers that have listened so far): calls that connect
 * before the others are up would all land on that one. Waits for the primary and `workers`
 * workers to be there and the start-up to be over: the tree's CPU under 0.1 core for 1 s
 * (start-up is CPU-bound: loading modules, Nest's dependency injection). A service that
 * runs one process whatever WORKERS says is taken as started once it has been quiet for 3 s.
 * Returns the number of processes.
 */
async function waitForStartUp(pid: number, workers: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  const samples: Array<{ at: number; cpuSeconds: number; processes: number }> = [];
  const quietFor = (ms: number) => {
    const last = samples[samples.length - 1];
    const first = samples.find((s) => s.at >= last.at - ms);
    if (!first || last.at - first.at < ms * 0.9) return false;
    const window = samples.filter((s) => s.at >= first.at);
    return (
      window.every((s) => s.processes === last.processes) &&
      (last.cpuSeconds - first.cpuSeconds) / ((last.at - first.at) / 1000) < 0.1
    );
  };
  while (Date.now() < deadline) {
    const sample = sampleProcessTree(pid);
    if (!sample) throw new Error('the service exited while starting');
    samples.push(sample);
    if ((sample.processes >= workers + 1 && quietFor(1_000)) || quietFor(3_000)) return sample.processes;
    await sleep(100);
  }
  log(`service still busy starting after 60 s; carrying on`);
  return samples[samples.length - 1]?.processes ?? 1;
}

/**
 * Every call holds a socket here, one in the target and, while it streams, one from the
 * target to the LLM (which keeps them alive afterwards), and one in the fake LLM. Node raises
 * its own soft limit on open files to the hard limit when it starts, so only the hard limit
 * matters, for this process and every one it starts.
 */
function checkFileLimit(calls: number): void {
  const needed = 3 * calls + 256;
  const soft = openFilesLimit();
  if (soft >= needed) return;
  log(
    `warning: this process may open ${soft} files at most, and ${calls} calls need about ${needed} in the service. ` +
      `Raise the hard limit before the run (e.g. \`ulimit -Hn ${needed}\` as root, or LimitNOFILE in a unit), ` +
      `or calls will fail with EMFILE.`,
  );
}

/** The soft limit on open files of this process (Infinity when unlimited). */
function openFilesLimit(): number {
  const line = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !line || line[1] === 'unlimited' ? Infinity : Number(line[1]);
}

/**
 * SIGTERM, then SIGKILL after 15 s. A cluster's primary is signalled, as an orchestrator
 * would; workers still there 5 s after it has gone (each recognised by its start time, so a
 * recycled pid is left alone) are killed.
 */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const descendants = [...processTree(child.pid!).keys()]
    .filter((pid) => pid !== child.pid)
    .map((pid) => ({ pid, started: startTime(pid) }));
  const exited = new Promise((resolvePromise) => child.once('exit', resolvePromise));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
  const deadline = Date.now() + 5_000;
  const alive = () => descendants.filter((d) => d.started !== null && startTime(d.pid) === d.started);
  while (alive().length && Date.now() < deadline) await sleep(100);
  for (const { pid } of alive()) {
    log(`process ${pid} outlived the service's primary: killing it`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or null if it is gone. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return null;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePromise(port));
    });
    server.on('error', reject);
  });
}

/** Jiffies since boot, all cores: busy and total (from /proc/stat). */
function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

function machineInfo() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    openFilesLimit: openFilesLimit(),
  };
}

function log(message: string): void {
  console.log(`${new Date().toISOString().slice(11, 19)} ${message}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
