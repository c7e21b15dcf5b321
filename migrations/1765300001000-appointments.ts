import { MigrationInterface, QueryRunner } from 'typeorm';

/** The table of the example extension (src/extensions/appointments). */
export class Appointments1765300001000 implements MigrationInterface {
  name = 'Appointments1765300001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE appointments (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        starts_at   timestamptz NOT NULL,
        name        text NOT NULL,
        phone       text NULL,
        session_id  text NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_appointments_starts_at UNIQUE (starts_at)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE appointments`);
  }
}
