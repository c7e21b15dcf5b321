import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { CallFilters, listCallsQuery } from './call-list.query';
import { asQueryTimeout, SET_LOCK_TIMEOUT } from './statement-timeout';

/** Rows of CallSummaryRow from a server-side cursor; `release` must be called once they are read or abandoned. */
export interface CallStream {
  rows: Readable;
  release(): Promise<void>;
}

@Injectable()
export class CallExportRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  /**
   * Every matching call through a server-side cursor: memory stays flat whatever the
   * count. Resolves once the first rows are in, so a failing query is reported before a
   * response starts. Postgres times a cursor from its first fetch to its last, slow
   * client included, so a statement timeout would cap the whole export: lock_timeout
   * bounds its waits instead. `release` ends the transaction and returns the connection.
   */
  async streamCalls(filters: CallFilters): Promise<CallStream> {
    const { sql, params } = listCallsQuery(filters);
    const timeoutMs = this.config.history.statementTimeoutMs;
    const runner = this.dataSource.createQueryRunner();
    const release = async () => {
      try {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
      } finally {
        await runner.release();
      }
    };
    try {
      await runner.startTransaction();
      await runner.query(SET_LOCK_TIMEOUT, [String(timeoutMs)]);
      const rows = await runner.stream(sql, params);
      await once(rows, 'readable');
      return { rows, release };
    } catch (error) {
      await release().catch(() => undefined);
      throw asQueryTimeout(error, timeoutMs);
    }
  }
}
