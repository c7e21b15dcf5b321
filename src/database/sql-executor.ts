import type { DataSource } from 'typeorm';

/** A connection or a transaction that runs SQL: the shape pg-boss calls `Db`, so jobs can be sent inside it. */
export interface SqlExecutor {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/**
 * Runs `work` in one transaction on `dataSource`: committed when it resolves, rolled back when it
 * throws. Rows written and jobs sent through the executor are stored together or not at all.
 */
export async function inTransaction<T>(dataSource: DataSource, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    const tx: SqlExecutor = {
      // The structured result: TypeORM otherwise returns [rows, count] for UPDATE ... RETURNING.
      executeSql: async (text, values) => ({
        rows: ((await runner.query(text, values, true)) as { records: Array<Record<string, unknown>> }).records,
      }),
    };
    const result = await work(tx);
    await runner.commitTransaction();
    return result;
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
  }
}
