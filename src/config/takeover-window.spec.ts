import 'reflect-metadata';
import { AppConfig } from './app-config';
import { ConfigValidationError } from './config-validation-error';

describe('INSTANCE_TAKEOVER_AFTER_MS: how long an instance is silent before its calls may be taken', () => {
  it('is two minutes by default, far longer than the 5 s heartbeat', () => {
    const config = AppConfig.from({});

    expect(config.instance).toMatchObject({ heartbeatMs: 5_000, takeoverAfterMs: 120_000 });
  });

  it('is never shorter than 3 heartbeats', () => {
    const config = AppConfig.from({ INSTANCE_HEARTBEAT_MS: '10000', INSTANCE_TAKEOVER_AFTER_MS: '5000' });

    expect(config.instance.takeoverAfterMs).toBe(30_000);
  });

  it('refuses a value that is not a whole number of milliseconds of at least one second', () => {
    expect(() => AppConfig.from({ INSTANCE_TAKEOVER_AFTER_MS: '500' })).toThrow(ConfigValidationError);
    expect(() => AppConfig.from({ INSTANCE_TAKEOVER_AFTER_MS: 'soon' })).toThrow(/INSTANCE_TAKEOVER_AFTER_MS/);
  });
});
