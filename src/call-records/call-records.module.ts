import { Module } from '@nestjs/common';
import { ActiveCallsRepository } from './active-calls.repository';
import { CallAnalysisRepository } from './call-analysis.repository';
import { CallEventDispatchRepository } from './call-event-dispatch.repository';
import { CallExportRepository } from './call-export.repository';
import { CallHistoryRepository } from './call-history.repository';
import { CallRecordWriterRepository } from './call-record-writer.repository';
import { CallRetentionRepository } from './call-retention.repository';
import { CallStatsRepository } from './call-stats.repository';
import { InstanceLivenessRepository } from './instance-liveness.repository';

const REPOSITORIES = [
  CallRecordWriterRepository,
  CallHistoryRepository,
  CallStatsRepository,
  CallExportRepository,
  CallRetentionRepository,
  InstanceLivenessRepository,
  ActiveCallsRepository,
  CallEventDispatchRepository,
  CallAnalysisRepository,
];

/**
 * The one owner of call_sessions, stream_exchanges, call_events, phone_numbers,
 * service_instances and call_analyses: every statement on them is in one of these repositories. The schema
 * is the reviewed SQL of migrations/.
 */
@Module({ providers: REPOSITORIES, exports: REPOSITORIES })
export class CallRecordsModule {}
