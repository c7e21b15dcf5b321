import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { CallRecordsModule } from '../call-records/call-records.module';
import { WebhookRecordsModule } from '../webhooks/webhook-records.module';
import { AppConfigModule } from '../config/config.module';
import { runCommandLine, UsageError } from '../config/command-line';
import { DatabaseModule } from '../database/database.module';
import { RetentionService } from './retention.service';

/** Just what retention needs: no HTTP server, no calls, no scheduler. */
@Module({
  imports: [AppConfigModule, DatabaseModule, CallRecordsModule, WebhookRecordsModule],
  providers: [RetentionService],
})
class RetentionCliModule {}

const USAGE = `Usage: npm run retention -- [--dry-run] [--days N] [--mode delete|redact]
Deletes or redacts calls older than RETENTION_DAYS (or --days), as the daily job does.
  --dry-run   only count what would be deleted or redacted`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'dry-run': { type: 'boolean', default: false },
      days: { type: 'string' },
      mode: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const days = values.days === undefined ? undefined : Number(values.days);
  if (days !== undefined && !(Number.isInteger(days) && days >= 1))
    throw new UsageError('--days must be a whole number of days, at least 1');
  if (values.mode !== undefined && values.mode !== 'delete' && values.mode !== 'redact')
    throw new UsageError('--mode must be delete or redact');

  const app = await NestFactory.createApplicationContext(RetentionCliModule, { logger: ['error', 'warn', 'log'] });
  try {
    const report = await app.get(RetentionService).run({ dryRun: values['dry-run'], days, mode: values.mode });
    if (!report) console.log('Nothing done (RETENTION_DAYS is not set, or retention is running elsewhere).');
    return 0;
  } finally {
    await app.close();
  }
}

runCommandLine(main, USAGE);
