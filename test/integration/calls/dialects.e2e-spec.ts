import { DIALECTS, FAKE_DIALECTS } from '../../../dev/fake-llm/fake-llm-dialects';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp, useFakeLlmDialect } from '../../support/test-app';

/**
 * The call flows, the LLM failures and the tool calls, each whole suite as it is, once per
 * dialect of the fake LLM: every way a provider writes its stream must give the caller the
 * same call. Each run loads the suites in a module registry of its own, where startTestApp
 * makes fakes that speak that dialect (the azure run reaches its fake as an Azure provider).
 */
const SUITES = ['./call-flow.e2e-spec', './llm-failures.e2e-spec', '../tools/tool-calls.e2e-spec'];

describe.each(FAKE_DIALECTS)('over the %s dialect', (dialect) => {
  for (const suite of SUITES) {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the copy in this run's module registry
      (require('../../support/test-app') as typeof import('../../support/test-app')).useFakeLlmDialect(dialect);
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the suite loads into this run's registry
      require(suite);
    });
  }

  describe('what the audit keeps of the answer', () => {
    let t: TestApp;

    beforeAll(async () => {
      useFakeLlmDialect(dialect);
      t = await startTestApp({ env: { GREETING: 'Hi.', LLM_MAX_TOKENS: '8' } });
    });
    afterAll(async () => {
      await t.close();
      useFakeLlmDialect('openai');
    });

    it('the provider and the model its stream named, reasoning counted but never spoken, and finish_reason length at max_tokens', async () => {
      const traits = DIALECTS[dialect];
      const client = await MillisPlatformClient.connect(t.wsUrl);
      client.startCall({ session_id: `dialect-${dialect}` });
      await client.waitForEnd(0);
      client.streamRequest(1, [{ role: 'user', content: 'Are you open' }]);
      expect(await client.waitForEnd(1)).toBe('You said: Are you open.');
      t.fakeLlm.enqueue({ kind: 'text', tokenCount: 20 });
      client.streamRequest(2, [{ role: 'user', content: 'Tell me everything' }]);
      expect(await client.waitForEnd(2)).toBe('word1 word2 word3 word4 word5 word6 word7 word8 ');
      await client.close();

      await eventually(async () => {
        const { rows } = await t.db.query(
          `SELECT e.stream_id, e.provider, e.model, e.response_model, e.finish_reason, e.reasoning_tokens, e.reasoning_ms,
                  e.completion_tokens, e.failed_attempts, e.status
           FROM stream_exchanges e JOIN call_sessions s ON s.id = e.call_session_id
           WHERE s.session_id = $1 AND e.kind = 'reply' ORDER BY e.stream_id`,
          [`dialect-${dialect}`],
        );
        expect(rows).toHaveLength(2);
        const [answer, long] = rows;
        expect(answer).toMatchObject({
          provider: dialect === 'azure' ? 'azure' : 'default',
          model: 'fake-model',
          response_model: 'fake-model',
          finish_reason: 'stop',
          failed_attempts: [],
          status: 'completed',
        });
        expect(answer.completion_tokens).toBeGreaterThan(0);
        if (traits.reasoningField) {
          expect(answer.reasoning_tokens).toBeGreaterThan(0);
          expect(answer.reasoning_ms).toBeGreaterThanOrEqual(0);
        } else {
          expect(answer.reasoning_tokens).toBe(traits.hiddenReasoningTokens ?? null);
        }
        expect(long).toMatchObject({ finish_reason: 'length', status: 'completed' });
      });
    });
  });
});
