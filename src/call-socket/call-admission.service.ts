import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { AuditWriter } from '../audit/audit-writer.service';
import { AppConfig } from '../config/app-config';
import { CallService } from './call.service';
import { CallMetrics, RefusalReason } from './call-metrics';
import { secretsMatch } from '../auth/secrets';
import { AddressAllowList, clientAddress } from '../http/client-address';
import { presentedToken } from '../auth/presented-token';

export interface Refusal {
  status: 401 | 403 | 503;
  reason: RefusalReason;
}

const STATUS_TEXT: Record<Refusal['status'], string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  503: 'Service Unavailable',
};

/**
 * Whether a WebSocket upgrade may become a call. Who the peer is comes first (address,
 * then token), so a stranger learns nothing about our state; then whether we can take
 * a call: not while draining, not beyond MAX_CALLS, not while the audit backlog is over
 * AUDIT_MAX_BACKLOG (each call in progress keeps every row; new calls would grow it).
 */
@Injectable()
export class CallAdmission {
  private readonly allowList: AddressAllowList;

  constructor(
    private readonly config: AppConfig,
    private readonly calls: CallService,
    private readonly audit: AuditWriter,
    private readonly metrics: CallMetrics,
  ) {
    this.allowList = new AddressAllowList(config.security.allowedIps);
  }

  /** `openConnections`: sockets currently open on this instance. */
  check(req: IncomingMessage, openConnections: number): Refusal | null {
    const refusal = this.decide(req, openConnections);
    if (refusal) this.metrics.refused(refusal.reason);
    return refusal;
  }

  static statusText(status: Refusal['status']): string {
    return STATUS_TEXT[status];
  }

  private decide(req: IncomingMessage, openConnections: number): Refusal | null {
    if (!this.allowList.allows(clientAddress(req, this.config.security.trustedProxy)))
      return { status: 403, reason: 'forbidden_address' };
    const expected = this.config.ws.authToken;
    if (expected !== undefined && !secretsMatch(presentedToken(req), expected))
      return { status: 401, reason: 'unauthorized' };
    if (this.calls.isDraining) return { status: 503, reason: 'draining' };
    if (openConnections >= this.config.security.maxCalls) return { status: 503, reason: 'capacity' };
    if (this.audit.overBound) return { status: 503, reason: 'audit_backlog' };
    return null;
  }
}
