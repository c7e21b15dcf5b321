import { AppConfig } from '../config/app-config';
import { logFormat } from './logging';

describe('logFormat', () => {
  it('is pretty on a terminal outside production and JSON lines otherwise, unless LOG_FORMAT says', () => {
    expect(logFormat(AppConfig.from({}), true)).toBe('pretty');
    expect(logFormat(AppConfig.from({}), false)).toBe('json');
    expect(
      logFormat(
        AppConfig.from({
          NODE_ENV: 'production',
          DATABASE_URL: 'postgres://u@db.internal/calls',
          WS_AUTH_TOKEN: 'a-websocket-token-of-length',
        }),
        true,
      ),
    ).toBe('json');
    expect(logFormat(AppConfig.from({ LOG_FORMAT: 'json' }), true)).toBe('json');
    expect(
      logFormat(
        AppConfig.from({
          LOG_FORMAT: 'pretty',
          NODE_ENV: 'production',
          DATABASE_URL: 'postgres://u@db.internal/calls',
          WS_AUTH_TOKEN: 'a-websocket-token-of-length',
        }),
        false,
      ),
    ).toBe('pretty');
  });
});
