import { Logger } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallRecordWriterRepository } from '../call-records/call-record-writer.repository';
import type { EventRecord, ExchangeRecord, PhoneSighting, SessionRecord } from '../call-records/call-record.types';
import { asJsonbParameter } from '../call-records/postgres-json';
import { AppConfig } from '../config/app-config';
import { ServiceInstance } from '../instance/service-instance';
import { AuditWriter } from './audit-writer.service';

const FLUSH_MS = 100;
const MAX_BACKLOG = 100;

/** A Postgres refusal as pg throws it: a SQLSTATE and a severity. */
class PostgresError extends Error {
  readonly severity = 'ERROR';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The writer repository in memory: each call is one statement, stored whole or not at all.
 * Rows are turned into the statement's parameter as the real repository does, so a row
 * JSON cannot hold is refused the same way. `failNext` makes the next calls fail as an
 * outage; `refuse` makes every statement holding a matching row fail as Postgres refuses it.
 */
class InMemoryCallRecords {
  readonly statements: Array<{ table: string; rows: unknown[]; at: number }> = [];
  readonly sessions: SessionRecord[] = [];
  readonly exchanges: ExchangeRecord[] = [];
  readonly events: EventRecord[] = [];
  readonly phones: PhoneSighting[] = [];
  instanceIds = new Set<string>();
  attempts: number[] = [];
  failNext = 0;
  refuse: (row: unknown) => boolean = () => false;

  upsertPhones(rows: PhoneSighting[]): Promise<void> {
    return this.statement('phones', rows, () => this.phones.push(...rows));
  }

  upsertSessions(rows: SessionRecord[], instanceId: string): Promise<void> {
    return this.statement('sessions', rows, () => {
      this.instanceIds.add(instanceId);
      this.sessions.push(...rows);
    });
  }

  async upsertExchanges(rows: ExchangeRecord[]): Promise<ExchangeRecord[]> {
    await this.statement('exchanges', rows, () => this.exchanges.push(...rows));
    return [];
  }

  insertEvents(rows: EventRecord[]): Promise<void> {
    return this.statement('events', rows, () => this.events.push(...rows));
  }

  private statement(table: string, rows: unknown[], store: () => void): Promise<void> {
    this.attempts.push(Date.now());
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    }
    asJsonbParameter(rows);
    if (rows.some(this.refuse)) return Promise.reject(new PostgresError('23514', 'violates check constraint'));
    this.statements.push({ table, rows, at: Date.now() });
    store();
    return Promise.resolve();
  }
}

function session(sessionId: string, fields: Partial<SessionRecord> = {}): SessionRecord {
  return {
    sessionId,
    agentId: 'agent-1',
    callSid: null,
    metadata: null,
    fromNumber: '+15550100',
    toNumber: null,
    status: 'active',
    endReason: null,
    startedAt: '2030-01-01T00:00:00.000Z',
    endedAt: null,
    closeCode: null,
    ...fields,
  };
}

function exchange(id: string, sessionId: string): ExchangeRecord {
  return {
    id,
    sessionId,
    streamId: 1,
    kind: 'reply',
    transcript: [{ role: 'user', content: 'Hello' }],
    responseText: 'Hi there',
    status: 'completed',
    model: 'm',
    error: null,
    requestedAt: '2030-01-01T00:00:01.000Z',
    firstTokenAt: '2030-01-01T00:00:01.100Z',
    completedAt: '2030-01-01T00:00:01.500Z',
    promptTokens: null,
    completionTokens: null,
    totalTokens: null,
  };
}

function event(id: string, sessionId: string | null): EventRecord {
  return {
    id,
    sessionId,
    type: 'partial_transcript',
    streamId: 1,
    payload: { text: 'Hel' },
    receivedAt: '2030-01-01T00:00:00.500Z',
  };
}

describe('AuditWriter', () => {
  let moduleRef: TestingModule;
  let writer: AuditWriter;
  let records: InMemoryCallRecords;
  let deadLetterFile: string;
  let loggedErrors: jest.SpyInstance;

  beforeEach(async () => {
    jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    loggedErrors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    records = new InMemoryCallRecords();
    deadLetterFile = join(mkdtempSync(join(tmpdir(), 'audit-writer-')), 'dead-letter.ndjson');
    moduleRef = await Test.createTestingModule({
      providers: [
        AuditWriter,
        { provide: CallRecordWriterRepository, useValue: records },
        { provide: ServiceInstance, useValue: { id: 'instance-1', name: 'test:8080' } },
        {
          provide: AppConfig,
          useValue: AppConfig.from({
            AUDIT_FLUSH_INTERVAL_MS: String(FLUSH_MS),
            AUDIT_MAX_BACKLOG: String(MAX_BACKLOG),
            AUDIT_DEAD_LETTER_FILE: deadLetterFile,
            AUDIT_SHUTDOWN_FLUSH_MS: '1000',
          }),
        },
      ],
    }).compile();
    await moduleRef.init();
    writer = moduleRef.get(AuditWriter);
  });

  afterEach(async () => {
    records.failNext = 0;
    records.refuse = () => false;
    await moduleRef.close();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('queues rows without writing, then writes them at the flush interval, one statement per table, parents first', async () => {
    writer.recordSession(session('s-1'));
    writer.recordExchange(exchange('e-1', 's-1'));
    writer.recordExchange(exchange('e-2', 's-1'));
    writer.recordEvent(event('v-1', 's-1'));
    writer.recordEvent(event('v-2', null));
    // The phone number of the session is queued too.
    expect(writer.backlog).toBe(6);

    await jest.advanceTimersByTimeAsync(FLUSH_MS - 1);
    expect(records.statements).toEqual([]);

    await jest.advanceTimersByTimeAsync(1);
    expect(records.statements.map((s) => [s.table, s.rows.length])).toEqual([
      ['phones', 1],
      ['sessions', 1],
      ['exchanges', 2],
      ['events', 2],
    ]);
    expect(records.instanceIds).toEqual(new Set(['instance-1']));
    expect(writer.getStats()).toMatchObject({ backlog: 0, rowsWritten: 6, flushes: 1, failedFlushes: 0 });
  });

  it('keeps the latest snapshot of a row recorded several times before a flush', async () => {
    writer.recordSession(session('s-1'));
    writer.recordSession(session('s-1', { status: 'ended', endReason: 'connection_closed' }));
    await jest.advanceTimersByTimeAsync(FLUSH_MS);
    expect(records.sessions).toEqual([session('s-1', { status: 'ended', endReason: 'connection_closed' })]);
  });

  it('retries a failed write with a growing backoff, losing nothing and keeping what was recorded meanwhile', async () => {
    records.failNext = 3;
    writer.recordSession(session('s-1', { fromNumber: null }));
    writer.recordExchange(exchange('e-1', 's-1'));

    await jest.advanceTimersByTimeAsync(FLUSH_MS);
    expect(writer.getStats()).toMatchObject({ backlog: 2, failedFlushes: 1, rowsWritten: 0 });
    expect(writer.getStats().lastError).toContain('ECONNREFUSED');

    writer.recordEvent(event('v-1', 's-1'));
    await jest.advanceTimersByTimeAsync(FLUSH_MS + 2 * FLUSH_MS + 4 * FLUSH_MS);
    // Attempts at 100 ms, then after 100, 200 and 400 ms: the first three failed.
    const started = new Date('2030-01-01T00:00:00Z').getTime();
    expect(records.attempts.slice(0, 4).map((at) => at - started)).toEqual([100, 200, 400, 800]);
    expect(writer.getStats()).toMatchObject({ backlog: 0, failedFlushes: 3, rowsWritten: 3 });
    expect(records.sessions.map((s) => s.sessionId)).toEqual(['s-1']);
    expect(records.exchanges.map((e) => e.id)).toEqual(['e-1']);
    expect(records.events.map((e) => e.id)).toEqual(['v-1']);

    // Recovered: back to the flush interval.
    writer.recordEvent(event('v-2', 's-1'));
    await jest.advanceTimersByTimeAsync(FLUSH_MS);
    expect(records.events.map((e) => e.id)).toEqual(['v-1', 'v-2']);
  });

  it('reports the backlog over its bound while the database is down, and within it once drained', async () => {
    records.failNext = Number.MAX_SAFE_INTEGER;
    for (let i = 0; i < MAX_BACKLOG - 1; i++) writer.recordEvent(event(`v-${i}`, null));
    expect(writer.overBound).toBe(false);
    writer.recordEvent(event('v-last', null));
    expect(writer.overBound).toBe(true);
    expect(loggedErrors).toHaveBeenCalledWith(expect.stringContaining('new calls are refused (503)'));

    await jest.advanceTimersByTimeAsync(10 * FLUSH_MS);
    expect(writer.overBound).toBe(true);
    expect(writer.getStats()).toMatchObject({ backlog: MAX_BACKLOG, peakBacklog: MAX_BACKLOG, rowsWritten: 0 });

    records.failNext = 0;
    await jest.advanceTimersByTimeAsync(5_000);
    expect(writer.overBound).toBe(false);
    expect(writer.getStats()).toMatchObject({ backlog: 0, rowsWritten: MAX_BACKLOG });
  });

  it('dead-letters only the rows that cannot be stored (unserializable, or refused by Postgres) and writes the others, without retrying', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    records.refuse = (row) => (row as { id?: string }).id === 'v-refused';
    writer.recordSession(session('s-good', { fromNumber: null }));
    writer.recordSession(session('s-circular', { fromNumber: null, metadata: circular }));
    writer.recordEvent(event('v-1', 's-good'));
    writer.recordEvent(event('v-refused', 's-good'));
    writer.recordEvent(event('v-2', 's-good'));

    await writer.flush();

    expect(records.sessions.map((s) => s.sessionId)).toEqual(['s-good']);
    expect(records.events.map((e) => e.id)).toEqual(['v-1', 'v-2']);
    expect(writer.getStats()).toMatchObject({ backlog: 0, rowsWritten: 3, deadLettered: 2, failedFlushes: 0 });
    const letters = readFileSync(deadLetterFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { code: string; batch: unknown; rows?: unknown });
    expect(letters).toEqual([
      expect.objectContaining({
        code: 'unserializable',
        batch: null,
        rows: expect.objectContaining({ sessions: ['s-circular'] }),
      }),
      expect.objectContaining({
        code: '23514',
        batch: expect.objectContaining({ events: [event('v-refused', 's-good')] }),
      }),
    ]);

    // Nothing is retried: the next flushes find an empty queue.
    const statements = records.attempts.length;
    await jest.advanceTimersByTimeAsync(3 * FLUSH_MS);
    expect(records.attempts.length).toBe(statements);
  });
});
