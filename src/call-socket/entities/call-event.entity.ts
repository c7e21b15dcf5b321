import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, Relation } from 'typeorm';
import type { CallEventType } from '../../call-records/call-status';
import { CallSession } from './call-session.entity';

/** A frame that is not a turn: partial transcripts, playback ends, interrupts, frames we could not use. */
@Entity({ name: 'call_events' })
export class CallEvent {
  @PrimaryColumn('uuid')
  id: string;

  /** Null for a frame that arrived before start_call. */
  @Column({ name: 'call_session_id', type: 'uuid', nullable: true })
  callSessionId: string | null;

  @ManyToOne(() => CallSession, (session) => session.events, { nullable: true, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'call_session_id' })
  callSession?: Relation<CallSession> | null;

  @Column({ type: 'text' })
  type: CallEventType;

  @Column({ name: 'stream_id', type: 'int', nullable: true })
  streamId: number | null;

  @Column({ type: 'jsonb' })
  payload: Record<string, unknown>;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt: Date;
}
