import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, TestApp } from '../../support/test-app';

/** The ```sql blocks of the Webhooks section of docs/sql.md. */
const QUERIES = [
  ...readFileSync(join(__dirname, '../../../docs/sql.md'), 'utf8')
    .split('\n## Webhooks\n')[1]
    .split('\n## ')[0]
    .matchAll(/```sql\n([\s\S]*?)```/g),
].map((m) => m[1]);

describe('The webhook queries of docs/sql.md', () => {
  let t: TestApp;
  let endpointId: string;

  beforeAll(async () => {
    t = await startTestApp();
    await t.db.query('DELETE FROM webhook_endpoints');
    const { rows } = await t.db.query<{ id: string }>(
      `INSERT INTO webhook_endpoints (url, events, secret) VALUES ('https://example.com/hooks', '{call.ended}', 'whsec_x')
       RETURNING id`,
    );
    endpointId = rows[0].id;
    const delivery = `INSERT INTO webhook_deliveries
      (endpoint_id, event_id, event_type, call_id, session_id, occurred_at, status, attempts, status_codes, last_error, last_latency_ms)
      VALUES ($1, gen_random_uuid(), 'call.ended', gen_random_uuid(), $2, now(), $3, $4, $5::int[], $6, $7)`;
    await t.db.query(delivery, [endpointId, 's-1', 'failed', 3, [500, 500, 500], 'HTTP 500', 40]);
    await t.db.query(delivery, [endpointId, 's-2', 'delivered', 2, [null, 200], null, 30]);
    await t.db.query(delivery, [endpointId, 's-3', 'delivered', 1, [200], null, 10]);
  });
  afterAll(async () => {
    await t.db.query('DELETE FROM webhook_endpoints');
    await t.close();
  });

  it('has the two queries', () => expect(QUERIES).toHaveLength(2));

  it('lists the failed deliveries of today per endpoint', async () => {
    const { rows } = await t.db.query(QUERIES[0]);
    expect(rows).toEqual([
      { url: 'https://example.com/hooks', event_type: 'call.ended', failed: '1', an_error: 'HTTP 500' },
    ]);
  });

  it('counts the attempts of delivered deliveries and the receivers’ latency', async () => {
    const { rows } = await t.db.query(QUERIES[1]);
    expect(rows).toEqual([
      { endpoint_id: endpointId, delivered: '2', avg_attempts: '1.50', max_attempts: 2, p95_latency_ms: 29 },
    ]);
  });
});
