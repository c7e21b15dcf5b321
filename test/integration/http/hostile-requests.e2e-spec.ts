import request from 'supertest';
import { JSON_BODY_LIMIT_BYTES } from '../../../src/http/json-body';
import { seedCall, simpleCall } from '../../support/history-fixtures';
import { startTestApp, TestApp } from '../../support/test-app';

const API_KEY = 'hostile-requests-key-0123456789';

describe('Requests no handler can use', () => {
  let t: TestApp;
  const api = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    t = await startTestApp({ env: { API_KEY } });
    await t.db.query('DELETE FROM agent_profiles');
    await seedCall(t.db, simpleCall('hostile-known', new Date('2025-05-01T10:00:00Z'), { agentId: 'agent-known' }));
    await api().put('/api/agents/agent-known').set('x-api-key', API_KEY).send({ name: 'Front desk' }).expect(201);
  });
  afterAll(() => t.close());

  describe('a NUL character (%00) is a 400 naming where it was, not a 500', () => {
    it.each([
      ['/api/calls?q=refund%00', 'query parameter "q" contains a NUL character'],
      ['/api/calls?agent_id=agent%00-1', 'query parameter "agent_id" contains a NUL character'],
      ['/api/calls?phone=%2B1555%000100', 'query parameter "phone" contains a NUL character'],
      ['/api/calls/export?agent_id=%00', 'query parameter "agent_id" contains a NUL character'],
      ['/api/calls/export?format=csv&q=a%00b', 'query parameter "q" contains a NUL character'],
      ['/api/phone-numbers/%2B15550100/calls?q=%00', 'query parameter "q" contains a NUL character'],
      ['/api/calls/hostile%00known', 'the URL path contains a NUL character'],
      ['/api/calls/hostile%00known/transcript', 'the URL path contains a NUL character'],
      ['/api/phone-numbers/%2B1555%000100/calls', 'the URL path contains a NUL character'],
      ['/api/agents/agent%00known', 'the URL path contains a NUL character'],
    ])('GET %s', async (path, message) => {
      const res = await api().get(path).set('x-api-key', API_KEY).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringContaining(message) });
    });

    it.each(['put', 'patch', 'delete'] as const)('%s /api/agents/:agentId with a NUL in the id', async (method) => {
      const res = await api()
        [method]('/api/agents/agent%00known')
        .set('x-api-key', API_KEY)
        .send({ name: 'x' })
        .expect(400);
      expect(res.body.message).toContain('the URL path contains a NUL character');
    });

    it('answers a path with broken percent-encoding with 400, not 404', async () => {
      const res = await api().get('/api/calls/%E0%A4%A').set('x-api-key', API_KEY).expect(400);
      expect(res.body.message).toContain('malformed percent-encoding');
    });
  });

  describe.each(['put', 'patch'] as const)('%s /api/agents/:agentId with a body it cannot use', (method) => {
    const send = (body: string, type = 'application/json') =>
      api()[method]('/api/agents/agent-known').set('x-api-key', API_KEY).set('Content-Type', type).send(body);

    it.each([
      ['malformed JSON', '{"name": ', 'invalid JSON body'],
      ['a JSON string instead of an object', '"Front desk"', 'invalid JSON body'],
      ['a NUL character in a value', '{"name": "Front\\u0000desk"}', '"name" contains a NUL character'],
      [
        'a lone surrogate in a nested value',
        '{"transfer_destinations": [{"name": "x", "destination": "+15550100", "description": "\\ud800"}]}',
        '"description" contains a NUL character or a lone surrogate',
      ],
      ['a __proto__ key', '{"__proto__": {"name": "x"}}', 'the key "__proto__" is not allowed'],
    ])('answers %s with 400', async (_what, body, message) => {
      const res = await send(body).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringContaining(message) });
    });

    it('answers a body over the limit with 413', async () => {
      const body = JSON.stringify({ system_prompt: 'x'.repeat(JSON_BODY_LIMIT_BYTES) });
      const res = await send(body).expect(413);
      expect(res.body).toEqual({
        statusCode: 413,
        error: 'Payload Too Large',
        message: `JSON body larger than ${JSON_BODY_LIMIT_BYTES} bytes`,
      });
    });

    it('answers a body that is not JSON with 415 instead of taking it for an empty profile', async () => {
      const res = await send('name=Front desk', 'application/x-www-form-urlencoded').expect(415);
      expect(res.body.message).toBe('send the request body as application/json');
      await send('Front desk', 'text/plain').expect(415);
    });

    it('answers an unsupported charset with 415', async () => {
      await send('{"name": "x"}', 'application/json; charset=latin-9').expect(415);
    });
  });

  it('loses nothing: the profile and the call are as they were, and the API still answers', async () => {
    const profile = await api().get('/api/agents/agent-known').set('x-api-key', API_KEY).expect(200);
    expect(profile.body).toMatchObject({
      agent_id: 'agent-known',
      name: 'Front desk',
      system_prompt: null,
      transfer_destinations: [],
    });
    const call = await api().get('/api/calls/hostile-known').set('x-api-key', API_KEY).expect(200);
    expect(call.body).toMatchObject({ session_id: 'hostile-known', agent_id: 'agent-known' });
    // Text that Postgres can store still goes through, escaped NUL-lookalikes included.
    await api()
      .patch('/api/agents/agent-known')
      .set('x-api-key', API_KEY)
      .send({ name: 'Desk \\u0000 100%00' })
      .expect(200);
    const list = await api().get('/api/calls?q=opening%2500').set('x-api-key', API_KEY).expect(200);
    expect(list.body.items).toEqual([]);
  });
});
