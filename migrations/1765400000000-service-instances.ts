import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Instances sharing the database, with a heartbeat, and the instance that owns each
 * session: lets an instance close as 'crashed' the sessions of a dead one without
 * touching the live calls of the others.
 */
export class ServiceInstances1765400000000 implements MigrationInterface {
  name = 'ServiceInstances1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE service_instances (
        id           uuid PRIMARY KEY,
        name         text NOT NULL,
        started_at   timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        stopped_at   timestamptz NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX ix_service_instances_name ON service_instances (name) WHERE stopped_at IS NULL`,
    );
    // Nullable, no default: adding it rewrites nothing, even on a large table.
    await queryRunner.query(`ALTER TABLE call_sessions ADD COLUMN instance_id uuid NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE call_sessions DROP COLUMN instance_id`);
    await queryRunner.query(`DROP TABLE service_instances`);
  }
}
