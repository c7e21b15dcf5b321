import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { WebhookEventType } from './webhook-wire';

/** An endpoint as the API shows it: never its secret. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  /** Null: every agent's calls. */
  agentId: string | null;
  events: WebhookEventType[];
  enabled: boolean;
  /** Until when the previous secret still signs, after a rotation. */
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface EndpointFields {
  url: string;
  description: string | null;
  agentId: string | null;
  events: WebhookEventType[];
  enabled: boolean;
}

interface EndpointRow {
  id: string;
  url: string;
  description: string | null;
  agent_id: string | null;
  events: WebhookEventType[];
  enabled: boolean;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, url, description, agent_id, events, enabled, previous_secret_expires_at, created_at, updated_at`;

/** webhook_endpoints for the API: create, read, change, rotate the secret, delete. */
@Injectable()
export class WebhookEndpointRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(fields: EndpointFields, secret: string): Promise<WebhookEndpoint> {
    const rows: EndpointRow[] = await this.dataSource.query(
      `INSERT INTO webhook_endpoints (url, description, agent_id, events, enabled, secret)
       VALUES ($1, $2, $3, $4::text[], $5, $6)
       RETURNING ${COLUMNS}`,
      [fields.url, fields.description, fields.agentId, fields.events, fields.enabled, secret],
    );
    return toEndpoint(rows[0]);
  }

  async findAll(agentId?: string): Promise<WebhookEndpoint[]> {
    const rows: EndpointRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM webhook_endpoints WHERE ($1::text IS NULL OR agent_id = $1) ORDER BY created_at, id`,
      [agentId ?? null],
    );
    return rows.map(toEndpoint);
  }

  async find(id: string): Promise<WebhookEndpoint | null> {
    const rows: EndpointRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1`, [
      id,
    ]);
    return rows.length ? toEndpoint(rows[0]) : null;
  }

  /**
   * Replaces the fields; disabling stops the endpoint's pending deliveries (marked failed) in the
   * same transaction, so a delivery job that runs after it finds nothing to send.
   */
  async update(id: string, fields: EndpointFields): Promise<WebhookEndpoint | null> {
    return this.dataSource.transaction(async (manager) => {
      const rows = updatedRows<EndpointRow>(
        await manager.query(
          `UPDATE webhook_endpoints SET url = $2, description = $3, agent_id = $4, events = $5::text[], enabled = $6,
                updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
          [id, fields.url, fields.description, fields.agentId, fields.events, fields.enabled],
        ),
      );
      if (rows.length === 0) return null;
      if (!fields.enabled) {
        await manager.query(
          `UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint disabled', updated_at = now()
           WHERE endpoint_id = $1 AND status = 'pending'`,
          [id],
        );
      }
      return toEndpoint(rows[0]);
    });
  }

  /** The new secret signs from now on; the old one signs too until `previousValidUntil`. */
  async rotateSecret(id: string, secret: string, previousValidUntil: Date): Promise<WebhookEndpoint | null> {
    const rows = updatedRows<EndpointRow>(
      await this.dataSource.query(
        `UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = $3, secret = $2,
              updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, secret, previousValidUntil],
      ),
    );
    return rows.length ? toEndpoint(rows[0]) : null;
  }

  /** Deletes the endpoint and its delivery log; its queued jobs then find nothing to send. */
  async delete(id: string): Promise<boolean> {
    const [, affected]: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM webhook_endpoints WHERE id = $1`,
      [id],
    );
    return affected > 0;
  }
}

function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    agentId: row.agent_id,
    events: row.events,
    enabled: row.enabled,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** TypeORM answers an UPDATE ... RETURNING with `[rows, affected]`. */
function updatedRows<T>(result: [T[], number]): T[] {
  return result[0];
}
