import request from 'supertest';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';

const API_KEY = 'agents-test-key-0123456789';

describe('Agent profiles', () => {
  let t: TestApp;
  const api = () => request(t.app.getHttpServer());
  const auth = { 'x-api-key': API_KEY };

  beforeAll(async () => {
    t = await startTestApp({
      env: { API_KEY, SYSTEM_PROMPT: 'Default prompt for {{agent_id}}.', GREETING: 'Default hello.' },
    });
    await t.db.query('DELETE FROM agent_profiles');
  });
  afterAll(() => t.close());
  beforeEach(() => t.fakeLlm.reset());

  describe('/api/agents', () => {
    it('refuses requests without the API key', async () => {
      await api().get('/api/agents').expect(401);
      await api().put('/api/agents/a').send({}).expect(401);
      await api().get('/api/tools').expect(401);
    });

    it('creates, reads, lists, patches, replaces and deletes a profile', async () => {
      const created = await api()
        .put('/api/agents/crud-agent')
        .set(auth)
        .send({
          name: 'Front desk',
          system_prompt: 'You work at {{metadata.shop}}.',
          temperature: 0.2,
          tools: ['end_call', 'transfer_call'],
          transfer_destinations: [{ name: 'sales', destination: '+15550100', description: 'new orders' }],
        })
        .expect(201);
      expect(created.body).toMatchObject({
        agent_id: 'crud-agent',
        name: 'Front desk',
        system_prompt: 'You work at {{metadata.shop}}.',
        greeting: null,
        model: null,
        temperature: 0.2,
        max_tokens: null,
        tools: ['end_call', 'transfer_call'],
        transfer_destinations: [{ name: 'sales', destination: '+15550100', description: 'new orders' }],
        created_at: expect.any(String),
      });

      await api().get('/api/agents/crud-agent').set(auth).expect(200, created.body);
      expect(
        (await api().get('/api/agents').set(auth).expect(200)).body.map((p: { agent_id: string }) => p.agent_id),
      ).toContain('crud-agent');

      const patched = await api()
        .patch('/api/agents/crud-agent')
        .set(auth)
        .send({ model: 'big-model', temperature: null })
        .expect(200);
      expect(patched.body).toMatchObject({
        model: 'big-model',
        temperature: null,
        name: 'Front desk',
        tools: ['end_call', 'transfer_call'],
      });

      const replaced = await api().put('/api/agents/crud-agent').set(auth).send({ name: 'Replaced' }).expect(200);
      expect(replaced.body).toMatchObject({ name: 'Replaced', model: null, tools: [], transfer_destinations: [] });

      await api().delete('/api/agents/crud-agent').set(auth).expect(204);
      await api().get('/api/agents/crud-agent').set(auth).expect(404);
      await api().delete('/api/agents/crud-agent').set(auth).expect(404);
      await api().patch('/api/agents/crud-agent').set(auth).send({ name: 'x' }).expect(404);
    });

    it.each([
      ['a temperature out of range', { temperature: 5 }, 'temperature must not be greater than 2'],
      ['an unknown field', { colour: 'blue' }, 'property colour should not exist'],
      ['an unknown tool', { tools: ['launch_rocket'] }, 'unknown tool(s): launch_rocket'],
      [
        'a destination that is not a number or SIP URI',
        { transfer_destinations: [{ name: 'x', destination: 'call my mum' }] },
        'destination must be an E.164 number',
      ],
      [
        'a duplicate destination name',
        {
          transfer_destinations: [
            { name: 'x', destination: '+15550100' },
            { name: 'x', destination: '+15550101' },
          ],
        },
        'listed twice',
      ],
    ])('answers 400 to %s', async (_what, body, message) => {
      const response = await api().put('/api/agents/invalid-agent').set(auth).send(body).expect(400);
      expect(JSON.stringify(response.body.message)).toContain(message);
    });

    it("keeps the agent's LLM providers in order and its hedging, null meaning the environment's", async () => {
      const created = await api()
        .put('/api/agents/provider-agent')
        .set(auth)
        .send({ providers: ['default'], hedge_after_ms: 150 })
        .expect(201);
      expect(created.body).toMatchObject({ providers: ['default'], hedge_after_ms: 150 });
      const reset = await api()
        .patch('/api/agents/provider-agent')
        .set(auth)
        .send({ providers: null, hedge_after_ms: null })
        .expect(200);
      expect(reset.body).toMatchObject({ providers: null, hedge_after_ms: null });
      await api().delete('/api/agents/provider-agent').set(auth).expect(204);
    });

    it.each([
      ['an unknown LLM provider', { providers: ['nobody'] }, 'unknown LLM provider(s): nobody; configured: default'],
      ['a provider listed twice', { providers: ['default', 'default'] }, 'is listed twice'],
      ['an empty provider list', { providers: [] }, 'providers must contain at least 1 elements'],
      ['a negative hedge', { hedge_after_ms: -1 }, 'hedge_after_ms must not be less than 0'],
    ])('answers 400 to %s', async (_what, body, message) => {
      const response = await api().put('/api/agents/invalid-agent').set(auth).send(body).expect(400);
      expect(JSON.stringify(response.body.message)).toContain(message);
    });

    it('lists the tools a profile can enable', async () => {
      const { body } = await api().get('/api/tools').set(auth).expect(200);
      expect(body.map((tool: { name: string }) => tool.name)).toEqual(
        expect.arrayContaining(['end_call', 'transfer_call', 'check_availability', 'book_slot']),
      );
      expect(body.find((tool: { name: string }) => tool.name === 'book_slot').parameters).toMatchObject({
        type: 'object',
        required: expect.arrayContaining(['date', 'time', 'name']),
        properties: { date: { type: 'string', pattern: expect.any(String) } },
      });
    });
  });

  describe('at start_call', () => {
    async function talk(
      agentId: string,
      sessionId: string,
    ): Promise<{ client: MillisPlatformClient; greeting: string }> {
      const client = await MillisPlatformClient.connect(t.wsUrl);
      client.startCall({
        session_id: sessionId,
        agent_id: agentId,
        metadata: { shop: 'Acme Dental' },
        voip: { from: '+15550111', to: '+15550222' },
      });
      const greeting = await client.waitForEnd(0);
      client.streamRequest(1, [{ role: 'user', content: 'Hi' }]);
      await client.waitForEnd(1);
      return { client, greeting };
    }

    it("uses the agent's profile: prompt with {{metadata.*}} and {{voip.*}}, greeting, model, temperature, max tokens, tools", async () => {
      await api()
        .put('/api/agents/dentist')
        .set(auth)
        .send({
          system_prompt: 'You book appointments for {{metadata.shop}}, line {{voip.to}}.',
          greeting: 'Welcome to {{metadata.shop}}.',
          model: 'profile-model',
          temperature: 0.1,
          max_tokens: 99,
          tools: ['check_availability', 'end_call'],
        })
        .expect(201);

      const { client, greeting } = await talk('dentist', 'profile-call');

      expect(greeting).toBe('Welcome to Acme Dental.');
      const [{ body }] = t.fakeLlm.requests;
      expect(body.messages![0]).toEqual({
        role: 'system',
        content: 'You book appointments for Acme Dental, line +15550222.',
      });
      expect(body).toMatchObject({ model: 'profile-model', temperature: 0.1, max_tokens: 99 });
      expect((body.tools as Array<{ function: { name: string } }>).map((tool) => tool.function.name)).toEqual([
        'check_availability',
        'end_call',
      ]);
      await client.close();

      await eventually(async () => {
        const { rows } = await t.db.query(
          `SELECT e.model FROM stream_exchanges e JOIN call_sessions s ON s.id = e.call_session_id WHERE s.session_id = 'profile-call' AND e.kind = 'reply'`,
        );
        expect(rows).toEqual([{ model: 'profile-model' }]);
      });
    });

    it('sees a change made through the API on the next call', async () => {
      await api()
        .patch('/api/agents/dentist')
        .set(auth)
        .send({ system_prompt: 'Changed for {{metadata.shop}}.' })
        .expect(200);

      const { client } = await talk('dentist', 'profile-call-after-patch');

      expect(t.fakeLlm.requests[0].body.messages![0].content).toBe('Changed for Acme Dental.');
      await client.close();
    });

    it('reads a profile written behind its back (not cached yet) before greeting', async () => {
      await t.db.query(
        `INSERT INTO agent_profiles (agent_id, greeting, system_prompt) VALUES ('sql-agent', 'Hi from SQL.', 'SQL prompt.')`,
      );

      const { client, greeting } = await talk('sql-agent', 'sql-agent-call');

      expect(greeting).toBe('Hi from SQL.');
      expect(t.fakeLlm.requests[0].body.messages![0].content).toBe('SQL prompt.');
      await client.close();
    });

    it('falls back to the environment defaults for an unknown agent, without tools', async () => {
      const { client, greeting } = await talk('no-such-agent', 'default-call');

      expect(greeting).toBe('Default hello.');
      const [{ body }] = t.fakeLlm.requests;
      expect(body.messages![0].content).toBe('Default prompt for no-such-agent.');
      expect(body).toMatchObject({ model: 'fake-model', temperature: 0.7 });
      expect(body.tools).toBeUndefined();
      await client.close();
    });
  });
});
