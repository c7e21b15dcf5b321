import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface Appointment {
  id: string;
  startsAt: Date;
  name: string;
}

/** The appointments table (migration 1765300001000). */
@Injectable()
export class AppointmentsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async bookedBetween(from: Date, to: Date): Promise<Date[]> {
    const rows: Array<{ starts_at: Date }> = await this.dataSource.query(
      `SELECT starts_at FROM appointments WHERE starts_at >= $1 AND starts_at < $2`,
      [from, to],
    );
    return rows.map((r) => r.starts_at);
  }

  /** null when the slot is already taken (the unique constraint decides, so two callers cannot both get it). */
  async book(startsAt: Date, name: string, phone: string | null, sessionId: string): Promise<Appointment | null> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `INSERT INTO appointments (starts_at, name, phone, session_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (starts_at) DO NOTHING RETURNING id`,
      [startsAt, name, phone, sessionId],
    );
    return rows.length ? { id: rows[0].id, startsAt, name } : null;
  }
}
