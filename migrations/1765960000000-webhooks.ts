import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outgoing webhooks (src/webhooks): the endpoints, global or for one agent, and the log of
 * deliveries, one row per (endpoint, event). The payload is not stored: it is built from the
 * call's rows at each attempt, so a redacted call never leaves with what redaction removed.
 */
export class Webhooks1765960000000 implements MigrationInterface {
  name = 'Webhooks1765960000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE webhook_endpoints (
        id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        url                         text NOT NULL,
        description                 text NULL,
        agent_id                    text NULL,
        events                      text[] NOT NULL,
        enabled                     boolean NOT NULL DEFAULT true,
        secret                      text NOT NULL,
        previous_secret             text NULL,
        previous_secret_expires_at  timestamptz NULL,
        created_at                  timestamptz NOT NULL DEFAULT now(),
        updated_at                  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ck_webhook_endpoints_events CHECK (
          cardinality(events) > 0 AND events <@ ARRAY['call.started', 'call.ended', 'call.analyzed']::text[])
      )`);
    await queryRunner.query(`CREATE INDEX ix_webhook_endpoints_agent_id ON webhook_endpoints (agent_id) WHERE enabled`);
    await queryRunner.query(`
      CREATE TABLE webhook_deliveries (
        id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        endpoint_id      uuid NOT NULL,
        event_id         uuid NOT NULL,
        event_type       text NOT NULL,
        call_id          uuid NOT NULL,
        session_id       text NOT NULL,
        occurred_at      timestamptz NOT NULL,
        status           text NOT NULL DEFAULT 'pending',
        attempts         int NOT NULL DEFAULT 0,
        status_codes     int[] NOT NULL DEFAULT '{}',
        last_error       text NULL,
        last_latency_ms  int NULL,
        redeliveries     int NOT NULL DEFAULT 0,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        last_attempt_at  timestamptz NULL,
        delivered_at     timestamptz NULL,
        CONSTRAINT uq_webhook_deliveries_endpoint_event UNIQUE (endpoint_id, event_id),
        CONSTRAINT fk_webhook_deliveries_endpoint FOREIGN KEY (endpoint_id)
          REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        CONSTRAINT ck_webhook_deliveries_status CHECK (status IN ('pending', 'delivered', 'failed')),
        CONSTRAINT ck_webhook_deliveries_event_type CHECK (event_type IN ('call.started', 'call.ended', 'call.analyzed'))
      )`);
    await queryRunner.query(`CREATE INDEX ix_webhook_deliveries_created_at ON webhook_deliveries (created_at, id)`);
    await queryRunner.query(`CREATE INDEX ix_webhook_deliveries_session_id ON webhook_deliveries (session_id)`);
    await queryRunner.query(
      `CREATE INDEX ix_webhook_deliveries_pending ON webhook_deliveries (endpoint_id) WHERE status = 'pending'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE webhook_deliveries`);
    await queryRunner.query(`DROP TABLE webhook_endpoints`);
  }
}
