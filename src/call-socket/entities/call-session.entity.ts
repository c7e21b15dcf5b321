import { Column, Entity, JoinColumn, ManyToOne, OneToMany, PrimaryGeneratedColumn, Relation } from 'typeorm';
import { PhoneNumber } from '../../call-records/entities/phone-number.entity';
import type { CallStatus, EndReason } from '../../call-records/call-status';
import { StreamExchange } from './stream-exchange.entity';
import { CallEvent } from './call-event.entity';

/** One Millis call session (one WebSocket connection, or several if the platform reconnects). */
@Entity({ name: 'call_sessions' })
export class CallSession {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'session_id', type: 'text', unique: true })
  sessionId: string;

  @Column({ name: 'agent_id', type: 'text' })
  agentId: string;

  @Column({ name: 'call_sid', type: 'text', nullable: true })
  callSid: string | null;

  @Column({ type: 'jsonb', nullable: true })
  metadata: Record<string, unknown> | null;

  @Column({ name: 'from_number_id', type: 'uuid', nullable: true })
  fromNumberId: string | null;

  @ManyToOne(() => PhoneNumber, { nullable: true })
  @JoinColumn({ name: 'from_number_id' })
  fromNumber?: Relation<PhoneNumber> | null;

  @Column({ name: 'to_number_id', type: 'uuid', nullable: true })
  toNumberId: string | null;

  @ManyToOne(() => PhoneNumber, { nullable: true })
  @JoinColumn({ name: 'to_number_id' })
  toNumber?: Relation<PhoneNumber> | null;

  @Column({ type: 'text' })
  status: CallStatus;

  @Column({ name: 'end_reason', type: 'text', nullable: true })
  endReason: EndReason | null;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt: Date | null;

  /** WebSocket close code of the last connection, when the peer closed it. */
  @Column({ name: 'close_code', type: 'int', nullable: true })
  closeCode: number | null;

  @OneToMany(() => StreamExchange, (exchange) => exchange.callSession)
  exchanges?: Relation<StreamExchange>[];

  @OneToMany(() => CallEvent, (event) => event.callSession)
  events?: Relation<CallEvent>[];
}
