import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { EndReason } from './call-status';

/** A call as the live view's catch-up reads it. */
export interface ActiveCallRow {
  session_id: string;
  agent_id: string;
  from_number: string | null;
  to_number: string | null;
  started_at: Date;
  instance_id: string | null;
  /** The owning instance's name (null when unknown). */
  instance_name: string | null;
  status: 'active' | 'ended';
  end_reason: EndReason | null;
}

/** The calls in progress on every instance, as recorded: what a live view re-reads after missing the bus. */
@Injectable()
export class ActiveCallsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Every active call, plus the calls in `sessionIds` (to learn how the ones no longer active ended). */
  async activeOrListed(sessionIds: string[]): Promise<ActiveCallRow[]> {
    return this.dataSource.query(
      `SELECT s.session_id, s.agent_id, f.number AS from_number, t.number AS to_number, s.started_at,
              s.instance_id, i.name AS instance_name, s.status, s.end_reason
         FROM call_sessions s
         LEFT JOIN phone_numbers f ON f.id = s.from_number_id
         LEFT JOIN phone_numbers t ON t.id = s.to_number_id
         LEFT JOIN service_instances i ON i.id = s.instance_id
        WHERE s.status = 'active' OR s.session_id = ANY($1::text[])`,
      [sessionIds],
    );
  }
}
