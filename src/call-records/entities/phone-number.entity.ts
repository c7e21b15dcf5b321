import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A phone number as the platform sent it, one row per distinct string. */
@Entity({ name: 'phone_numbers' })
export class PhoneNumber {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text', unique: true })
  number: string;

  @Column({ name: 'first_seen_at', type: 'timestamptz' })
  firstSeenAt: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt: Date;
}
