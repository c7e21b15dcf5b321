import { InitialSchema1764118800000 } from './1764118800000-initial-schema';
import { CallHistory1764900000000 } from './1764900000000-call-history';
import { AgentProfilesAndToolCalls1765300000000 } from './1765300000000-agent-profiles-and-tool-calls';
import { Appointments1765300001000 } from './1765300001000-appointments';
import { ServiceInstances1765400000000 } from './1765400000000-service-instances';
import { CallSummaryDurationMs1765500000000 } from './1765500000000-call-summary-duration-ms';
import { AuditLongValues1765600000000 } from './1765600000000-audit-long-values';
import { LlmProviders1765700000000 } from './1765700000000-llm-providers';
import { ExchangeErrorCode1765800000000 } from './1765800000000-exchange-error-code';
import { CallEventDispatch1765850000000 } from './1765850000000-call-event-dispatch';
import { PreemptiveReplies1765900000000 } from './1765900000000-preemptive-replies';
import { CallAnalyses1765950000000 } from './1765950000000-call-analyses';
import { Webhooks1765960000000 } from './1765960000000-webhooks';

/** Every migration in order; listed explicitly so they load the same from src/ and dist/. */
export const MIGRATIONS = [
  InitialSchema1764118800000,
  CallHistory1764900000000,
  AgentProfilesAndToolCalls1765300000000,
  Appointments1765300001000,
  ServiceInstances1765400000000,
  CallSummaryDurationMs1765500000000,
  AuditLongValues1765600000000,
  LlmProviders1765700000000,
  ExchangeErrorCode1765800000000,
  CallEventDispatch1765850000000,
  PreemptiveReplies1765900000000,
  CallAnalyses1765950000000,
  Webhooks1765960000000,
];
