import 'reflect-metadata';
import { APIError } from 'openai';
import type { LlmProviderConfig } from '../config/llm-provider-config';
import { DIALECTS, FAKE_DIALECTS, FakeLlmServer } from '../../dev/fake-llm/fake-llm-server';
import { CompletionChunk, CompletionRequest } from './llm-client';
import { OpenAiCompatibleClient } from './openai-compatible.client';
import { ToolCallAccumulator } from './tool-call-accumulator';

const provider = (baseUrl: string, overrides: Partial<LlmProviderConfig> = {}): LlmProviderConfig => ({
  name: 'fake',
  kind: 'openai',
  baseUrl,
  apiKey: 'fake-key',
  headers: {},
  firstTokenTimeoutMs: 5_000,
  idleTimeoutMs: 5_000,
  maxTokensParam: 'max_tokens',
  ...overrides,
});

const request = (content: string, overrides: Partial<CompletionRequest> = {}): CompletionRequest => ({
  messages: [{ role: 'user', content }],
  model: 'fake-model',
  temperature: 0.5,
  maxTokens: 400,
  signal: new AbortController().signal,
  ...overrides,
});

async function collect(client: OpenAiCompatibleClient, req: CompletionRequest): Promise<CompletionChunk[]> {
  const chunks: CompletionChunk[] = [];
  for await (const chunk of client.streamCompletion(req)) chunks.push(chunk);
  return chunks;
}

const of = <T extends CompletionChunk['type']>(chunks: CompletionChunk[], type: T) =>
  chunks.filter((c): c is Extract<CompletionChunk, { type: T }> => c.type === type);

describe('OpenAiCompatibleClient reads every dialect the same way', () => {
  const server = new FakeLlmServer({ firstTokenDelayMs: 2, tokenDelayMs: 1 });
  let client: OpenAiCompatibleClient;

  beforeAll(async () => {
    client = new OpenAiCompatibleClient(provider(await server.start()));
  });
  afterEach(() => server.reset());
  afterAll(() => server.stop());

  describe.each(FAKE_DIALECTS)('%s', (dialect) => {
    beforeEach(() => server.setOptions({ dialect }));
    const traits = DIALECTS[dialect];

    it('text, reasoning kept apart, the model, usage and the finish reason', async () => {
      const chunks = await collect(client, request('What time do you open?'));

      expect(
        of(chunks, 'text')
          .map((c) => c.text)
          .join(''),
      ).toBe('You said: What time do you open?.');
      expect(of(chunks, 'reasoning').length > 0).toBe(traits.reasoningField !== undefined);
      expect(of(chunks, 'model')).toEqual([{ type: 'model', model: 'fake-model' }]);
      expect(of(chunks, 'finish')).toEqual([{ type: 'finish', reason: 'stop' }]);
      const usage = of(chunks, 'usage').at(-1)?.usage;
      expect(usage?.completionTokens).toBeGreaterThan(0);
      if (traits.hiddenReasoningTokens) expect(usage?.reasoningTokens).toBe(traits.hiddenReasoningTokens);
    });

    it('parallel tool calls, reassembled whole', async () => {
      server.enqueue({
        kind: 'tool_calls',
        calls: [
          { name: 'check_availability', arguments: { date: '2030-01-07', note: 'split me into a few pieces' } },
          { name: 'end_call', arguments: {} },
        ],
      });
      const accumulator = new ToolCallAccumulator();
      const chunks = await collect(client, request('Is Monday free?'));
      for (const chunk of of(chunks, 'tool_call_delta')) accumulator.push(chunk);

      expect(accumulator.complete()).toEqual([
        {
          id: expect.stringMatching(/^call_/),
          name: 'check_availability',
          arguments: '{"date":"2030-01-07","note":"split me into a few pieces"}',
        },
        { id: expect.stringMatching(/^call_/), name: 'end_call', arguments: '{}' },
      ]);
      expect(of(chunks, 'finish')).toEqual([{ type: 'finish', reason: 'tool_calls' }]);
    });

    it('finish_reason "length" at max_tokens', async () => {
      server.enqueue({ kind: 'text', tokenCount: 10 });
      const chunks = await collect(client, request('go', { maxTokens: 4 }));
      expect(of(chunks, 'text')).toHaveLength(4);
      expect(of(chunks, 'finish')).toEqual([{ type: 'finish', reason: 'length' }]);
      expect(server.requests[0].body.max_tokens).toBe(4);
    });
  });

  it('sends max_completion_tokens, a fixed temperature, extra body and headers when the provider says so', async () => {
    const reasoner = new OpenAiCompatibleClient(
      provider(server.baseUrl, {
        maxTokensParam: 'max_completion_tokens',
        temperature: 1,
        extraBody: { reasoning_effort: 'low' },
        headers: { 'X-Title': 'voice' },
      }),
    );
    await collect(reasoner, request('hi', { maxTokens: 64 }));
    const [sent] = server.requests;
    expect(sent.body).toMatchObject({ max_completion_tokens: 64, temperature: 1, reasoning_effort: 'low' });
    expect(sent.body).not.toHaveProperty('max_tokens');
    expect(sent.headers['x-title']).toBe('voice');
  });

  it('surfaces a 429 with its retry-after for the failover to honour', async () => {
    server.enqueue({ kind: 'error', status: 429, retryAfterS: 7 });
    const error = await collect(client, request('hi')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(429);
    expect((error as APIError).headers?.get('retry-after')).toBe('7');
  });

  it('talks to Azure OpenAI as Azure wants: deployment in the path, api-version in the query, the key as api-key', async () => {
    server.setOptions({ dialect: 'azure' });
    const azure = new OpenAiCompatibleClient(
      provider(server.baseUrl.replace(/\/v1$/, ''), {
        kind: 'azure',
        apiKey: 'azure-key-123',
        deployment: 'voice-gpt4o',
        apiVersion: '2024-10-21',
      }),
    );
    const chunks = await collect(azure, request('Hello Azure'));

    expect(
      of(chunks, 'text')
        .map((c) => c.text)
        .join(''),
    ).toBe('You said: Hello Azure.');
    const [sent] = server.requests;
    expect(sent.url).toBe('/openai/deployments/voice-gpt4o/chat/completions?api-version=2024-10-21');
    expect(sent.deployment).toBe('voice-gpt4o');
    expect(sent.headers['api-key']).toBe('azure-key-123');
    expect(sent.headers.authorization).toBeUndefined();
  });
});
