import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, Relation } from 'typeorm';
import type { ExchangeKind, ExchangeStatus } from '../../call-records/call-status';
import { CallSession } from './call-session.entity';

/** One stream_request and the reply we streamed for it (or the greeting). */
@Entity({ name: 'stream_exchanges' })
export class StreamExchange {
  @PrimaryColumn('uuid')
  id: string;

  @Column({ name: 'call_session_id', type: 'uuid' })
  callSessionId: string;

  @ManyToOne(() => CallSession, (session) => session.exchanges, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'call_session_id' })
  callSession?: Relation<CallSession>;

  @Column({ name: 'stream_id', type: 'int' })
  streamId: number;

  @Column({ type: 'text' })
  kind: ExchangeKind;

  /** The transcript exactly as the platform sent it (empty for the greeting). */
  @Column({ type: 'jsonb' })
  transcript: Array<{ role: string; content: string }>;

  /** What was actually sent to the platform, fallback included. */
  @Column({ name: 'response_text', type: 'text' })
  responseText: string;

  @Column({ type: 'text' })
  status: ExchangeStatus;

  @Column({ type: 'text', nullable: true })
  model: string | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'requested_at', type: 'timestamptz' })
  requestedAt: Date;

  @Column({ name: 'first_token_at', type: 'timestamptz', nullable: true })
  firstTokenAt: Date | null;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;

  @Column({ name: 'prompt_tokens', type: 'int', nullable: true })
  promptTokens: number | null;

  @Column({ name: 'completion_tokens', type: 'int', nullable: true })
  completionTokens: number | null;

  @Column({ name: 'total_tokens', type: 'int', nullable: true })
  totalTokens: number | null;
}
