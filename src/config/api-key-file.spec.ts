import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOrCreateApiKey } from './api-key-file';
import { AppConfig } from './app-config';
import { ConfigValidationError } from './config-validation-error';

describe('readOrCreateApiKey', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'api-key-'))));

  it('makes a random key at first start, readable by the owner only, and reuses it afterwards', () => {
    const file = join(dir, 'data', 'api-key');
    const first = readOrCreateApiKey(file);

    expect(first).toEqual({ key: expect.stringMatching(/^[\w-]{32}$/), file, created: true });
    expect(readFileSync(file, 'utf8')).toBe(`${first.key}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readOrCreateApiKey(file)).toEqual({ key: first.key, file, created: false });
    expect(readOrCreateApiKey(join(dir, 'other-key')).key).not.toBe(first.key);
  });

  it('accepts a key written by hand, with surrounding whitespace', () => {
    const file = join(dir, 'api-key');
    writeFileSync(file, '  my-own-key-0123456789 \n');
    expect(readOrCreateApiKey(file)).toEqual({ key: 'my-own-key-0123456789', file, created: false });
  });

  it('refuses a file without a usable key, in one readable message, and leaves the file as it was', () => {
    const file = join(dir, 'api-key');
    writeFileSync(file, 'short\n');
    expect(() => readOrCreateApiKey(file)).toThrow(ConfigValidationError);
    expect(() => readOrCreateApiKey(file)).toThrow(
      /^Invalid configuration:\n {2}- API_KEY_FILE: .*api-key: it holds no key of 16\+ characters/,
    );
    expect(readFileSync(file, 'utf8')).toBe('short\n');
  });
});

describe('AppConfig.forService', () => {
  let file: string;
  beforeEach(() => (file = join(mkdtempSync(join(tmpdir(), 'api-key-')), 'api-key')));

  it('outside production without API_KEY, signs the call desk in with the key kept in API_KEY_FILE', () => {
    const config = AppConfig.forService({ API_KEY_FILE: file });

    expect(config.production).toBe(false);
    expect(config.api.key).toBe(readFileSync(file, 'utf8').trim());
    expect(config.api.keyFile).toEqual({ path: file, created: true });
    expect(AppConfig.forService({ API_KEY_FILE: file, NODE_ENV: 'development' }).api).toEqual({
      key: config.api.key,
      keyFile: { path: file, created: false },
    });
  });

  it('uses API_KEY when it is set, and in production never makes a key', () => {
    expect(AppConfig.forService({ API_KEY: 'given-key-0123456789', API_KEY_FILE: file }).api).toEqual({
      key: 'given-key-0123456789',
    });
    const production = AppConfig.forService({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u@db.internal/calls',
      WS_AUTH_TOKEN: 'a-websocket-token-of-length',
      API_KEY_FILE: file,
    });
    expect(production.production).toBe(true);
    expect(production.api).toEqual({ key: undefined });
    expect(existsSync(file)).toBe(false);
  });

  it('leaves the key file alone in tests that build their configuration with AppConfig.from', () => {
    expect(AppConfig.from({ API_KEY_FILE: file }).api.key).toBeUndefined();
    expect(existsSync(file)).toBe(false);
  });
});
