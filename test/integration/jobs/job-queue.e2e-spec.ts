import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import request from 'supertest';
import { JobQueue } from '../../../src/jobs/job-queue.service';
import type { JobRun } from '../../../src/jobs/job-spec';
import { JobsModule } from '../../../src/jobs/jobs.module';
import { callLifecycleEventId } from '../../../src/call-lifecycle/call-lifecycle-event';
import { API_KEY } from '../../support/audit-test-kit';
import { testPool } from '../../support/test-database';
import { eventually, startTestApp, TestApp } from '../../support/test-app';

interface Echo {
  n: number;
  failTimes?: number;
}

/** A queue of the test's own: records each attempt, fails the first `failTimes` of a job. */
@Injectable()
class EchoWork implements OnModuleInit {
  readonly attempts: Array<{ id: string; n: number; retryCount: number; at: number }> = [];

  constructor(private readonly jobs: JobQueue) {}

  onModuleInit(): void {
    this.jobs.register<Echo>(
      { name: 'test-echo', retryLimit: 2, retryDelaySeconds: 1, retryBackoff: true, expireInSeconds: 30 },
      async (job: JobRun<Echo>) => {
        this.attempts.push({ id: job.id, n: job.data.n, retryCount: job.retryCount, at: Date.now() });
        if (job.retryCount < (job.data.failTimes ?? 0)) throw new Error(`echo ${job.data.n} refused`);
        await Promise.resolve();
      },
    );
  }
}

@Module({ imports: [JobsModule], providers: [EchoWork] })
class EchoModule {}

describe('Job queue (pg-boss on the service database)', () => {
  let t: TestApp;
  let work: EchoWork;

  beforeAll(async () => {
    t = await startTestApp({ env: { API_KEY }, imports: [EchoModule] });
    work = t.app.get(EchoWork);
  });
  afterAll(() => t?.close());

  it('runs a sent job once, and a second send with the same id is not queued', async () => {
    const jobs = t.app.get(JobQueue);
    const id = callLifecycleEventId('00000000-0000-0000-0000-000000000001', 'call.ended', new Date(0));
    expect(await jobs.send('test-echo', { n: 1 }, { id })).toBe(id);
    expect(await jobs.send('test-echo', { n: 1 }, { id })).toBeNull();
    await eventually(() => expect(work.attempts.filter((a) => a.n === 1)).toHaveLength(1));
    await eventually(async () => {
      const { rows } = await t.db.query(`SELECT state FROM pgboss.job WHERE id = $1`, [id]);
      expect(rows).toEqual([{ state: 'completed' }]);
    });
  });

  it('retries a failing job with growing delays, then shows it failed with its error', async () => {
    const jobs = t.app.get(JobQueue);
    await jobs.send('test-echo', { n: 2, failTimes: 3 });
    await eventually(() => expect(work.attempts.filter((a) => a.n === 2)).toHaveLength(3), 30_000);
    const attempts = work.attempts.filter((a) => a.n === 2);
    expect(attempts.map((a) => a.retryCount)).toEqual([0, 1, 2]);
    // Backoff: the first retry waits at least the queue's delay (1 s), the second at least twice it.
    // (pg-boss adds jitter and the worker polls once a second, so the gaps themselves may come out equal.)
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(1000);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(2000);

    await eventually(async () => {
      const failed = await request(t.app.getHttpServer())
        .get('/api/jobs/failed?queue=test-echo')
        .set('x-api-key', API_KEY)
        .expect(200);
      expect(failed.body).toEqual([
        expect.objectContaining({ queue: 'test-echo', data: { n: 2, failTimes: 3 }, retry_count: 2 }),
      ]);
      expect(JSON.stringify(failed.body[0].error)).toContain('echo 2 refused');
    });
    const queues = await request(t.app.getHttpServer()).get('/api/jobs').set('x-api-key', API_KEY).expect(200);
    expect(queues.body).toContainEqual(
      expect.objectContaining({ queue: 'test-echo', counts: expect.objectContaining({ completed: 1, failed: 1 }) }),
    );
  });

  it('keeps its queue listing behind the API key', async () => {
    await request(t.app.getHttpServer()).get('/api/jobs').expect(401);
    await request(t.app.getHttpServer()).get('/api/jobs/failed?limit=0').set('x-api-key', API_KEY).expect(400);
  });
});

/** A queue of three slots whose handlers run until the test lets them go. */
@Injectable()
class HangingWork implements OnModuleInit {
  started = 0;
  ended = 0;
  running = 0;
  mostAtOnce = 0;
  private release!: () => void;
  readonly released = new Promise<void>((resolve) => (this.release = resolve));

  constructor(private readonly jobs: JobQueue) {}

  onModuleInit(): void {
    this.jobs.register(
      {
        name: 'test-hang',
        retryLimit: 1,
        retryDelaySeconds: 60,
        retryBackoff: false,
        expireInSeconds: 60,
        concurrency: 3,
      },
      async () => {
        this.started++;
        this.mostAtOnce = Math.max(this.mostAtOnce, ++this.running);
        await this.released;
        this.running--;
        this.ended++;
      },
    );
  }

  letGo(): void {
    this.release();
  }
}

@Module({ imports: [JobsModule], providers: [HangingWork] })
class HangingModule {}

describe('Job queue workers', () => {
  it("run as many jobs at once as the queue's concurrency, the next as a slot frees", async () => {
    const t = await startTestApp({ imports: [HangingModule] });
    const work = t.app.get(HangingWork);
    try {
      const jobs = t.app.get(JobQueue);
      const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => jobs.send('test-hang', { n })));
      await eventually(() => expect(work.started).toBe(3));
      work.letGo();
      await eventually(async () => {
        const { rows } = await t.db.query(`SELECT state FROM pgboss.job WHERE id = ANY($1)`, [ids]);
        expect(rows.map((r) => r.state)).toEqual(Array(5).fill('completed'));
      });
      expect(work.mostAtOnce).toBe(3);
      expect(work.started).toBe(5);
    } finally {
      work.letGo();
      await t.close();
    }
  });

  it('fail a job still running after the shutdown grace, to be retried, and close without it', async () => {
    const t = await startTestApp({ env: { SHUTDOWN_GRACE_MS: '200' }, imports: [HangingModule] });
    const work = t.app.get(HangingWork);
    const id = await t.app.get(JobQueue).send('test-hang', {});
    await eventually(() => expect(work.started).toBe(1));
    const db = testPool();
    try {
      await t.close();
      const { rows } = await db.query(`SELECT state, output FROM pgboss.job WHERE id = $1`, [id]);
      expect(rows).toEqual([
        { state: 'retry', output: expect.objectContaining({ message: 'the service shut down while it ran' }) },
      ]);
      // The handler ending after the shutdown touches nothing: the row stays as the shutdown left it.
      work.letGo();
      await eventually(() => expect(work.ended).toBe(1));
      const after = await db.query(`SELECT state FROM pgboss.job WHERE id = $1`, [id]);
      expect(after.rows).toEqual([{ state: 'retry' }]);
    } finally {
      work.letGo();
      await db.end();
    }
  });
});
