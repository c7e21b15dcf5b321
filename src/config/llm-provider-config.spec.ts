import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppConfig } from './app-config';
import { ConfigValidationError } from './config-validation-error';
import { EnvironmentVariables, validateEnvironment } from './environment-variables';

function errorOf(raw: Record<string, unknown>): string {
  try {
    validateEnvironment(raw);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.message;
    throw error;
  }
  throw new Error('expected validateEnvironment to throw');
}

const GROQ = {
  name: 'groq',
  base_url: 'https://api.groq.com/openai/v1',
  api_key: 'gsk-groq-secret',
  model: 'llama-3.3-70b-versatile',
};
const AZURE = {
  name: 'azure-east',
  kind: 'azure',
  base_url: 'https://east.openai.azure.com/',
  api_key: 'azure-secret-key',
  deployment: 'gpt4o-mini',
};

describe('LLM providers in the environment', () => {
  it('keeps the single-provider variables as one provider named default', () => {
    const config = AppConfig.from({
      OPENAI_API_KEY: 'sk-one',
      OPENAI_BASE_URL: 'http://127.0.0.1:8089/v1',
      LLM_TIMEOUT_MS: '1500',
      LLM_IDLE_TIMEOUT_MS: '900',
    });

    expect(config.llm.providers).toEqual([
      {
        name: 'default',
        kind: 'openai',
        apiKey: 'sk-one',
        baseUrl: 'http://127.0.0.1:8089/v1',
        headers: {},
        firstTokenTimeoutMs: 1500,
        idleTimeoutMs: 900,
        maxTokensParam: 'max_tokens',
      },
    ]);
    expect(config.llm.providerOrder).toEqual(['default']);
    expect(config.llm.circuit).toEqual({ failureThreshold: 5, openMs: 30_000 });
    expect(config.llm.hedgeAfterMs).toBeUndefined();
  });

  it('defines default even with nothing set, as before (callers hear the fallback)', () => {
    expect(AppConfig.from({}).llm.providers.map((p) => p.name)).toEqual(['default']);
  });

  it('reads LLM_PROVIDERS as JSON, after default when the OPENAI_* variables are set too', () => {
    const config = AppConfig.from({
      OPENAI_API_KEY: 'sk-one',
      LLM_PROVIDERS: JSON.stringify([GROQ, { ...AZURE, first_token_timeout_ms: 800, headers: { 'x-team': 'voice' } }]),
    });

    expect(config.llm.providers.map((p) => p.name)).toEqual(['default', 'groq', 'azure-east']);
    expect(config.llm.providers[1]).toMatchObject({
      kind: 'openai',
      baseUrl: GROQ.base_url,
      apiKey: GROQ.api_key,
      model: GROQ.model,
      firstTokenTimeoutMs: 10_000,
    });
    expect(config.llm.providers[2]).toMatchObject({
      kind: 'azure',
      baseUrl: 'https://east.openai.azure.com/',
      deployment: 'gpt4o-mini',
      apiVersion: '2024-10-21',
      firstTokenTimeoutMs: 800,
      headers: { 'x-team': 'voice' },
    });
    expect(config.llm.providerOrder).toEqual(['default', 'groq', 'azure-east']);
  });

  it('leaves default out when only named providers are configured', () => {
    const config = AppConfig.from({ LLM_PROVIDERS: JSON.stringify([GROQ]) });
    expect(config.llm.providers.map((p) => p.name)).toEqual(['groq']);
  });

  it('reads numbered variables in their order, with JSON headers and extra body', () => {
    const config = AppConfig.from({
      LLM_PROVIDER_2_NAME: 'local-vllm',
      LLM_PROVIDER_2_BASE_URL: 'http://10.0.0.5:8000/v1',
      LLM_PROVIDER_2_EXTRA_BODY: '{"chat_template_kwargs":{"enable_thinking":false}}',
      LLM_PROVIDER_1_NAME: 'openrouter',
      LLM_PROVIDER_1_BASE_URL: 'https://openrouter.ai/api/v1',
      LLM_PROVIDER_1_API_KEY: 'sk-or-secret',
      LLM_PROVIDER_1_HEADERS: '{"HTTP-Referer":"https://example.com","X-Title":"voice"}',
      LLM_PROVIDER_1_IDLE_TIMEOUT_MS: '3000',
      LLM_PROVIDER_1_MAX_TOKENS_PARAM: 'max_completion_tokens',
      LLM_PROVIDER_1_TEMPERATURE: '1',
      LLM_PROVIDER_ORDER: 'local-vllm,openrouter',
    });

    expect(config.llm.providers.map((p) => p.name)).toEqual(['openrouter', 'local-vllm']);
    expect(config.llm.providers[0]).toMatchObject({
      headers: { 'HTTP-Referer': 'https://example.com', 'X-Title': 'voice' },
      idleTimeoutMs: 3000,
      maxTokensParam: 'max_completion_tokens',
      temperature: 1,
    });
    expect(config.llm.providers[1].extraBody).toEqual({ chat_template_kwargs: { enable_thinking: false } });
    expect(config.llm.providerOrder).toEqual(['local-vllm', 'openrouter']);
  });

  it('hands every key and credential header to the log scrubber', () => {
    const config = AppConfig.from({
      OPENAI_API_KEY: 'sk-default-secret',
      LLM_PROVIDERS: JSON.stringify([
        GROQ,
        {
          name: 'gateway',
          base_url: 'https://gw.example.com/v1',
          headers: { 'x-gateway-token': 'gw-secret-token', 'X-Title': 'voice' },
        },
      ]),
    });
    expect(config.llm.secrets).toEqual(['sk-default-secret', 'gsk-groq-secret', 'gw-secret-token']);
  });

  it('reports every problem in one error, naming the variable or the JSON path', () => {
    const message = errorOf({
      OPENAI_API_KEY: 'sk-one',
      LLM_PROVIDERS: JSON.stringify([
        { name: 'default', base_url: 'https://x.example.com/v1' },
        { name: 'bad url', base_url: 'ftp://x', colour: 'blue' },
        { name: 'az', kind: 'azure' },
        { name: 'slow', first_token_timeout_ms: 5, kind: 'anthropic' },
        { ...GROQ },
        { ...GROQ },
      ]),
      LLM_PROVIDER_ORDER: 'groq,nobody',
    });

    expect(message).toContain('Invalid configuration:');
    expect(message).toContain('LLM_PROVIDERS[1].colour: unknown field');
    expect(message).toContain('LLM_PROVIDERS[1].name: must be 1 to 40 letters');
    expect(message).toContain('LLM_PROVIDERS[1].base_url: must be an http(s) URL');
    expect(message).toContain('LLM_PROVIDERS[2].base_url: is required for kind azure');
    expect(message).toContain('LLM_PROVIDERS[2].api_key: is required for kind azure');
    expect(message).toContain('LLM_PROVIDERS[3].kind: must be openai or azure');
    expect(message).toContain('LLM_PROVIDERS[3].first_token_timeout_ms: must be a whole number from 100 to 600000');
    expect(message).toContain('the name "default" is taken by OPENAI_API_KEY');
    expect(message).toContain('the provider name "groq" is used twice');
    expect(message).toContain('LLM_PROVIDER_ORDER: unknown provider(s) nobody');
    expect(message).toContain('See .env.example');
  });

  it('refuses both forms at once, JSON that is not an array, and unknown numbered fields', () => {
    expect(errorOf({ LLM_PROVIDERS: JSON.stringify([GROQ]), LLM_PROVIDER_1_NAME: 'x' })).toContain('not both');
    expect(errorOf({ LLM_PROVIDERS: '{"name":"x"}' })).toContain('must be a JSON array');
    expect(errorOf({ LLM_PROVIDERS: '[{' })).toContain('LLM_PROVIDERS: not valid JSON');
    expect(errorOf({ LLM_PROVIDER_1_NAME: 'x', LLM_PROVIDER_1_BASEURL: 'http://x' })).toContain(
      'LLM_PROVIDER_1_BASEURL: unknown variable',
    );
    expect(errorOf({ LLM_PROVIDER_1_NAME: 'x', LLM_PROVIDER_1_HEADERS: 'nope' })).toContain(
      'LLM_PROVIDER_1_HEADERS: must be a JSON object',
    );
    expect(errorOf({ LLM_CIRCUIT_FAILURES: '-1' })).toContain('LLM_CIRCUIT_FAILURES');
    expect(errorOf({ LLM_HEDGE_AFTER_MS: 'soon' })).toContain('LLM_HEDGE_AFTER_MS');
  });
});

describe('.env.example', () => {
  const example = readFileSync(resolve(__dirname, '../../.env.example'), 'utf8');

  it('documents every variable, the LLM provider ones included', () => {
    const variables = Object.keys(new EnvironmentVariables()).filter((key) => key === key.toUpperCase());
    expect(variables).toEqual(
      expect.arrayContaining([
        'LLM_PROVIDERS',
        'LLM_PROVIDER_ORDER',
        'LLM_HEDGE_AFTER_MS',
        'LLM_CIRCUIT_FAILURES',
        'LLM_CIRCUIT_OPEN_MS',
      ]),
    );
    for (const variable of variables) expect(example).toMatch(new RegExp(`^${variable}=`, 'm'));
  });

  it('names every field of a provider in both forms', () => {
    for (const field of [
      'name',
      'kind',
      'base_url',
      'api_key',
      'model',
      'deployment',
      'api_version',
      'headers',
      'first_token_timeout_ms',
      'idle_timeout_ms',
      'max_tokens_param',
      'temperature',
      'extra_body',
    ]) {
      expect(example).toContain(`${field} / ${field.toUpperCase()}`);
    }
  });
});
