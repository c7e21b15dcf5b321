import { AppConfig } from '../config/app-config';
import { EnvironmentVariables, validateEnvironment } from '../config/environment-variables';
import { renderStartUpBanner, startUpFacts } from './start-up-banner';

const withStoredKey = (raw: Record<string, unknown>, created: boolean) =>
  new AppConfig(validateEnvironment(raw), { key: 'stored-key-0123456789abcdef', file: './data/api-key', created });

describe('start-up banner', () => {
  it('shows a newcomer the URLs, the key made for this machine and that replies are the fallback', () => {
    const facts = startUpFacts(withStoredKey({}, true), 8080);
    expect(facts).toEqual({
      websocketUrl: 'ws://localhost:8080/llm-websocket',
      dashboardUrl: 'http://localhost:8080/',
      signIn: 'sign in with the key stored-key-0123456789abcdef (made now and kept in ./data/api-key)',
      apiKey: 'stored-key-0123456789abcdef',
      apiKeyFile: './data/api-key',
      llm: 'none: callers hear the fallback message until OPENAI_API_KEY (or OPENAI_BASE_URL) is set',
    });
    const text = renderStartUpBanner(facts, 'pretty');
    expect(text.trim().split('\n')).toEqual([
      'Millis LLM service is ready',
      '  WebSocket  ws://localhost:8080/llm-websocket',
      '  Call desk  http://localhost:8080/  sign in with the key stored-key-0123456789abcdef (made now and kept in ./data/api-key)',
      '  LLM        none: callers hear the fallback message until OPENAI_API_KEY (or OPENAI_BASE_URL) is set',
    ]);
  });

  it('never prints a key given as API_KEY, nor the credentials of OPENAI_BASE_URL', () => {
    const config = AppConfig.from({
      HOST: '127.0.0.1',
      API_KEY: 'given-key-0123456789',
      WS_AUTH_TOKEN: 'ws-token-0123456789',
      OPENAI_BASE_URL: 'http://user:secret@llm.internal:8000/v1?key=abc',
      OPENAI_MODEL: 'llama3',
    });
    const facts = startUpFacts(config, 9000);
    expect(facts).toMatchObject({
      websocketUrl: 'ws://127.0.0.1:9000/llm-websocket?token=<WS_AUTH_TOKEN>',
      signIn: 'sign in with API_KEY',
      apiKey: undefined,
      llm: 'llama3 at http://llm.internal:8000/v1',
    });
    const json = renderStartUpBanner(facts, 'json');
    expect(json).not.toMatch(/given-key|secret|ws-token|key=abc/);
    expect(JSON.parse(json)).toMatchObject({
      level: 30,
      context: 'Bootstrap',
      dashboard_url: 'http://127.0.0.1:9000/',
      llm: 'llama3 at http://llm.internal:8000/v1',
    });
  });

  it('says how many workers serve the port when WORKERS is set', () => {
    const facts = startUpFacts(AppConfig.from({ WORKERS: '4', API_KEY: 'given-key-0123456789' }), 8080);
    expect(facts.workers).toBe(4);
    expect(renderStartUpBanner(facts, 'pretty')).toContain('\n  Workers    4 worker processes on the port\n');
    expect(JSON.parse(renderStartUpBanner(facts, 'json'))).toMatchObject({ workers: 4 });
    expect(startUpFacts(AppConfig.from({ API_KEY: 'given-key-0123456789' }), 8080)).not.toHaveProperty('workers');
  });

  it('says the call desk is closed in production without API_KEY', () => {
    const facts = startUpFacts(
      AppConfig.from({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://u@db.internal/calls',
        WS_AUTH_TOKEN: 'a-websocket-token-of-length',
        OPENAI_API_KEY: 'sk-x',
      }),
      8080,
    );
    expect(facts.signIn).toBe('closed: API_KEY is not set, so every /api request is refused');
    expect(facts.llm).toBe(`${new EnvironmentVariables().OPENAI_MODEL} at OpenAI`);
  });
});

describe('start-up banner with several LLM providers', () => {
  it('lists them in their failover order, without credentials', () => {
    const config = AppConfig.from({
      OPENAI_API_KEY: 'sk-default',
      OPENAI_MODEL: 'gpt-4o-mini',
      LLM_PROVIDERS: JSON.stringify([
        {
          name: 'azure',
          kind: 'azure',
          base_url: 'https://east.openai.azure.com',
          api_key: 'az-secret',
          model: 'gpt-4o',
        },
        {
          name: 'groq',
          base_url: 'https://user:pw@api.groq.com/openai/v1',
          api_key: 'gsk',
          model: 'llama-3.3-70b-versatile',
        },
      ]),
      LLM_PROVIDER_ORDER: 'azure,groq,default',
    });
    expect(startUpFacts(config, 8080).llm).toBe(
      'azure: gpt-4o at https://east.openai.azure.com (Azure), then groq: llama-3.3-70b-versatile at https://api.groq.com/openai/v1, then default: gpt-4o-mini at OpenAI (failover in this order)',
    );
  });
});
