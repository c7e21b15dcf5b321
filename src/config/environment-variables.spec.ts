import 'reflect-metadata';
import { availableParallelism } from 'node:os';
import { AppConfig } from './app-config';
import { ConfigValidationError } from './config-validation-error';
import { EnvironmentVariables, validateEnvironment } from './environment-variables';

function errorOf(raw: Record<string, unknown>): ConfigValidationError {
  try {
    validateEnvironment(raw);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error;
    throw error;
  }
  throw new Error('expected validateEnvironment to throw');
}

describe('validateEnvironment', () => {
  it('applies the defaults to an empty environment', () => {
    const env = validateEnvironment({});

    expect(env).toBeInstanceOf(EnvironmentVariables);
    expect(env).toMatchObject({
      PORT: 8080,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'log',
      DB_POOL_SIZE: 10,
      WS_MAX_PAYLOAD: 1024 * 1024,
      OPENAI_MODEL: 'gpt-4o-mini',
      LLM_TEMPERATURE: 0.7,
      LLM_MAX_TOKENS: 400,
      LLM_TIMEOUT_MS: 10_000,
      LLM_IDLE_TIMEOUT_MS: 10_000,
      AUDIT_FLUSH_INTERVAL_MS: 200,
      AUDIT_BATCH_SIZE: 2000,
      SHUTDOWN_GRACE_MS: 10_000,
      LOG_FORMAT: 'auto',
      API_KEY_FILE: './data/api-key',
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.WS_AUTH_TOKEN).toBeUndefined();
    expect(env.OPENAI_API_KEY).toBeUndefined();
    expect(env.GREETING).toBeUndefined();
  });

  it('parses numbers from their string form', () => {
    const env = validateEnvironment({
      PORT: '3000',
      DB_POOL_SIZE: '4',
      LLM_TEMPERATURE: '0.25',
      LLM_MAX_TOKENS: '128',
      LLM_TIMEOUT_MS: '2500',
      SHUTDOWN_GRACE_MS: '0',
    });

    expect(env.PORT).toBe(3000);
    expect(env.DB_POOL_SIZE).toBe(4);
    expect(env.LLM_TEMPERATURE).toBe(0.25);
    expect(env.LLM_MAX_TOKENS).toBe(128);
    expect(env.LLM_TIMEOUT_MS).toBe(2500);
    expect(env.SHUTDOWN_GRACE_MS).toBe(0);
  });

  it('keeps valid strings as given', () => {
    const env = validateEnvironment({
      DATABASE_URL: 'postgres://app:secret@db:5432/calls',
      WS_AUTH_TOKEN: '0123456789abcdef',
      OPENAI_BASE_URL: 'http://localhost:4010/v1',
      GREETING: 'Hello {{customer.name}}!',
      LOG_LEVEL: 'debug',
    });

    expect(env.DATABASE_URL).toBe('postgres://app:secret@db:5432/calls');
    expect(env.WS_AUTH_TOKEN).toBe('0123456789abcdef');
    expect(env.OPENAI_BASE_URL).toBe('http://localhost:4010/v1');
    expect(env.GREETING).toBe('Hello {{customer.name}}!');
    expect(env.LOG_LEVEL).toBe('debug');
  });

  it('treats blank optional values as unset', () => {
    const env = validateEnvironment({
      DATABASE_URL: '',
      WS_AUTH_TOKEN: '',
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
      GREETING: '',
    });

    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.WS_AUTH_TOKEN).toBeUndefined();
    expect(env.OPENAI_API_KEY).toBeUndefined();
    expect(env.OPENAI_BASE_URL).toBeUndefined();
    expect(env.GREETING).toBeUndefined();
  });

  it('falls back to the default for a blank numeric value', () => {
    const env = validateEnvironment({ PORT: '', LLM_MAX_TOKENS: '' });

    expect(env.PORT).toBe(8080);
    expect(env.LLM_MAX_TOKENS).toBe(400);
  });

  it('reports every invalid variable in one error', () => {
    const error = errorOf({ PORT: 'abc', LLM_TEMPERATURE: '5', DATABASE_URL: 'http://x' });

    expect(error.message).toMatch(/^Invalid configuration:/);
    expect(error.message).toMatch(/\nSee \.env\.example for every variable\.$/);
    const listed = error.problems.map((problem) => problem.split(':')[0]);
    expect(listed.sort()).toEqual(['DATABASE_URL', 'LLM_TEMPERATURE', 'PORT']);
    expect(error.message.split('\n').filter((line) => line.startsWith('  - '))).toHaveLength(3);
    expect(error.message).toMatch(/PORT: .*integer/);
    expect(error.message).toMatch(/LLM_TEMPERATURE: .*not be greater than 2/);
    expect(error.message).toMatch(/DATABASE_URL: .*URL/);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a fractional PORT', { PORT: '80.5' }],
    ['a PORT above 65535', { PORT: '70000' }],
    ['an unknown LOG_LEVEL', { LOG_LEVEL: 'trace' }],
    ['an unknown LOG_FORMAT', { LOG_FORMAT: 'colour' }],
    ['a short WS_AUTH_TOKEN', { WS_AUTH_TOKEN: 'short' }],
    ['an LLM timeout under 100 ms', { LLM_TIMEOUT_MS: '50' }],
    ['a DATABASE_URL without a protocol', { DATABASE_URL: 'localhost:5432/db' }],
    ['no analysis at once', { ANALYSIS_CONCURRENCY: '0' }],
  ])('rejects %s', (_label, raw) => {
    const variable = Object.keys(raw)[0];

    expect(errorOf(raw).message).toContain(`  - ${variable}: `);
  });

  it('keeps exports below the pool size, so they cannot hold every connection', () => {
    expect(validateEnvironment({}).EXPORT_MAX_CONCURRENT).toBeLessThan(validateEnvironment({}).DB_POOL_SIZE);
    expect(validateEnvironment({ DB_POOL_SIZE: '3', EXPORT_MAX_CONCURRENT: '2' }).EXPORT_MAX_CONCURRENT).toBe(2);

    expect(errorOf({ DB_POOL_SIZE: '4', EXPORT_MAX_CONCURRENT: '4' }).message).toContain(
      '  - EXPORT_MAX_CONCURRENT: must be below DB_POOL_SIZE (4), so exports always leave connections for calls and the API',
    );
  });

  it('runs two analyses at once per process unless ANALYSIS_CONCURRENCY says', () => {
    expect(AppConfig.from({}).analysis.concurrency).toBe(2);
    expect(AppConfig.from({ ANALYSIS_CONCURRENCY: '5' }).analysis.concurrency).toBe(5);
  });

  it('treats a blank FALLBACK_MESSAGE as unset, keeping the default', () => {
    expect(validateEnvironment({ FALLBACK_MESSAGE: '' }).FALLBACK_MESSAGE).toBe(
      new EnvironmentVariables().FALLBACK_MESSAGE,
    );
  });

  it('runs one process without WORKERS, and that many workers with it (auto = the available cores)', () => {
    expect(AppConfig.from({}).cluster).toEqual({ workers: undefined, workerSlot: undefined });
    expect(AppConfig.from({ WORKERS: '3' }).cluster.workers).toBe(3);
    expect(AppConfig.from({ WORKERS: 'auto' }).cluster.workers).toBe(availableParallelism());
    expect(AppConfig.from({ WORKERS: ' Auto ' }).cluster.workers).toBe(availableParallelism());
    expect(AppConfig.from({ WORKERS: '' }).cluster.workers).toBeUndefined();
    expect(AppConfig.from({ WORKERS: '2', CLUSTER_WORKER_SLOT: '2' }).cluster).toEqual({ workers: 2, workerSlot: 2 });
  });

  it.each(['0', '-1', '1.5', 'many', '2000'])('refuses WORKERS=%s with one message', (value) => {
    expect(errorOf({ WORKERS: value }).problems).toEqual([
      'WORKERS: WORKERS must be a whole number from 1 to 1024, or auto',
    ]);
  });

  it('ignores variables it does not know', () => {
    const env = validateEnvironment({ PATH: '/usr/bin', HOME: '/root', PORT_EXTRA: 'x', port: 'abc' });

    expect(env.PORT).toBe(8080);
    expect(env).not.toHaveProperty('PATH');
    expect(env).not.toHaveProperty('PORT_EXTRA');
    expect(env).not.toHaveProperty('port');
  });

  describe('in production', () => {
    const DB = 'postgres://u@db.internal:5432/calls';
    const TOKEN = 'a-websocket-token-of-length';

    it('refuses to start without DATABASE_URL, with one line naming the opt-out', () => {
      const error = errorOf({ NODE_ENV: 'production', WS_AUTH_TOKEN: TOKEN });
      expect(error.message).toMatch(
        /^Invalid configuration:\n {2}- DATABASE_URL: required when NODE_ENV=production .*ALLOW_EMBEDDED_DATABASE=true/,
      );
      expect(error.message).not.toMatch(/WS_AUTH_TOKEN/);
    });

    it('refuses to start with neither WS_AUTH_TOKEN nor WS_ALLOWED_IPS', () => {
      const error = errorOf({ NODE_ENV: 'production', DATABASE_URL: DB });
      expect(error.message).toMatch(
        /- WS_AUTH_TOKEN: required when NODE_ENV=production unless WS_ALLOWED_IPS .*ALLOW_OPEN_WEBSOCKET=true/,
      );
    });

    it('reports both refusals at once', () => {
      expect(errorOf({ NODE_ENV: 'production' }).message.match(/required when NODE_ENV=production/g)).toHaveLength(2);
    });

    it('starts with a database and either a token or an address allow-list', () => {
      expect(validateEnvironment({ NODE_ENV: 'production', DATABASE_URL: DB, WS_AUTH_TOKEN: TOKEN }).NODE_ENV).toBe(
        'production',
      );
      expect(
        validateEnvironment({ NODE_ENV: 'production', DATABASE_URL: DB, WS_ALLOWED_IPS: '10.0.0.0/8' }).NODE_ENV,
      ).toBe('production');
    });

    it('starts with the explicit opt-outs', () => {
      const env = validateEnvironment({
        NODE_ENV: 'production',
        ALLOW_EMBEDDED_DATABASE: 'true',
        ALLOW_OPEN_WEBSOCKET: 'true',
      });
      expect(env).toMatchObject({ ALLOW_EMBEDDED_DATABASE: true, ALLOW_OPEN_WEBSOCKET: true });
    });

    it('leaves development alone', () => {
      expect(validateEnvironment({ NODE_ENV: 'development' }).DATABASE_URL).toBeUndefined();
      expect(validateEnvironment({}).WS_AUTH_TOKEN).toBeUndefined();
    });
  });
});
