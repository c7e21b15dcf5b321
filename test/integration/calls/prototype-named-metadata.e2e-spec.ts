import request from 'supertest';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';

const API_KEY = 'metadata-test-key-0123456789';

/** As the caller's app might send it: keys named after Object.prototype members, at every depth. */
const METADATA_JSON = `{
  "constructor": {"name": "Ada"},
  "toString": "not a function",
  "valueOf": 42,
  "hasOwnProperty": false,
  "__proto__": {"polluted": true},
  "nested": {"constructor": ["a", {"__proto__": null, "toString": {"valueOf": "deep"}}]},
  "plain": "value"
}`;

describe('start_call metadata with keys named after prototype members', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { API_KEY, GREETING: 'Hello {{metadata.constructor.name}}.' } });
  });
  afterAll(() => t.close());

  it('greets the caller, answers later turns, and stores the metadata and transcript exactly as received', async () => {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    // Such keys outside the metadata too: on the frame, its data and a transcript entry.
    client.sendRaw(
      `{"type":"start_call","constructor":1,"data":{"stream_id":0,"agent_id":"agent-1","session_id":"prototype-keys",` +
        `"__proto__":{"x":1},"constructor":{"prototype":{}},"metadata":${METADATA_JSON}}}`,
    );

    expect(await client.waitForEnd(0)).toBe('Hello Ada.');
    client.sendRaw(
      `{"type":"stream_request","data":{"stream_id":1,"transcript":[{"role":"user","content":"Are you there?","constructor":"x","__proto__":{"y":2}}]}}`,
    );
    expect(await client.waitForEnd(1)).toBe('You said: Are you there?.');
    await client.close();

    const expected = JSON.parse(METADATA_JSON);
    await eventually(async () => {
      const { rows } = await t.db.query(
        `SELECT metadata = $1::jsonb AS same, ARRAY(SELECT jsonb_object_keys(metadata) ORDER BY 1) AS keys
         FROM call_sessions WHERE session_id = 'prototype-keys' AND status = 'ended'`,
        [METADATA_JSON],
      );
      expect(rows).toEqual([{ same: true, keys: Object.keys(expected).sort() }]);
    });
    const { rows: invalid } = await t.db.query(
      `SELECT count(*)::int AS n FROM call_events ev JOIN call_sessions s ON s.id = ev.call_session_id
       WHERE s.session_id = 'prototype-keys' AND ev.type = 'invalid'`,
    );
    expect(invalid[0].n).toBe(0);
    const { rows: turns } = await t.db.query(
      `SELECT e.transcript = $1::jsonb AS same FROM stream_exchanges e JOIN call_sessions s ON s.id = e.call_session_id
       WHERE s.session_id = 'prototype-keys' AND e.kind = 'reply'`,
      ['[{"role":"user","content":"Are you there?","constructor":"x","__proto__":{"y":2}}]'],
    );
    expect(turns).toEqual([{ same: true }]);

    // And the history API hands it back whole.
    const res = await request(t.app.getHttpServer())
      .get('/api/calls/prototype-keys')
      .set('x-api-key', API_KEY)
      .expect(200);
    expect(JSON.parse(res.text).metadata).toEqual(expected);
    expect(Object.keys(JSON.parse(res.text).metadata)).toEqual(expect.arrayContaining(Object.keys(expected)));
    expect(Object.keys(expected)).toHaveLength(7);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
