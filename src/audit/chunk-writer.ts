import { CallRecordWriterRepository } from '../call-records/call-record-writer.repository';
import { ServiceInstance } from '../instance/service-instance';
import type { QueuedRow } from './audit-queue';
import { AuditRow, AuditTable, batchOf } from './audit-records';
import type { DeadLetterOutbox } from './dead-letter-outbox';
import type { RefusalTally } from './refusal-tally';
import { describeWriteFailure } from './write-failure';
import { writeTable } from './write-table';

/**
 * Writes one chunk of a table's rows. A refusal (Postgres answers that some rows cannot be
 * stored) is never retried: the chunk is halved until each refused row is alone, every other
 * row is written, and only the refused ones go to the dead letters with Postgres' code and
 * message. An outage throws: the caller keeps the chunk for the retry.
 */
export class ChunkWriter {
  constructor(
    private readonly repository: CallRecordWriterRepository,
    /** Stamped on the sessions it writes. */
    private readonly instance: ServiceInstance,
    private readonly deadLetters: DeadLetterOutbox,
    /** Rows were stored (`stored` of them) or dead-lettered (0): the writer is moving. */
    private readonly progressed: (stored: number) => void,
  ) {}

  async write(table: AuditTable, chunk: Array<QueuedRow<AuditRow<AuditTable>>>, refusals: RefusalTally): Promise<void> {
    let missingParent: Array<AuditRow<AuditTable>>;
    try {
      missingParent = await writeTable(
        this.repository,
        this.instance.id,
        table,
        chunk.map((q) => q.row),
      );
    } catch (error) {
      const failure = describeWriteFailure(error);
      if (failure.kind === 'outage') throw error;
      if (chunk.length === 1) {
        await this.refuse(table, [chunk[0].row], failure.code, failure.message, refusals);
        return;
      }
      const half = Math.ceil(chunk.length / 2);
      await this.write(table, chunk.slice(0, half), refusals);
      await this.write(table, chunk.slice(half), refusals);
      return;
    }
    this.progressed(chunk.length - missingParent.length);
    if (missingParent.length > 0) {
      await this.refuse(
        table,
        missingParent,
        'missing_session',
        'the call session of this row is not stored (it was refused)',
        refusals,
      );
    }
  }

  private async refuse(
    table: AuditTable,
    rows: Array<AuditRow<AuditTable>>,
    code: string | null,
    message: string,
    refusals: RefusalTally,
  ): Promise<void> {
    await this.deadLetters.append({ reason: message, code, batch: batchOf(table, rows) });
    this.progressed(0);
    refusals.add(table, code, message, rows.length);
  }
}
