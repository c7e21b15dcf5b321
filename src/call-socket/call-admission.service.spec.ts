import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { callTestingModule, FedLlmClient, RecordingAudit } from '../../test/support/call-fakes';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../observability/metrics.service';
import { CallAdmission } from './call-admission.service';
import { CallMetrics } from './call-metrics';
import { CallService } from './call.service';

const TOKEN = 'a-token-of-sixteen-chars';

/** An upgrade request from `address` (as the trusted proxy names it), with `url` and headers. */
function upgrade(address: string, url = '/llm-websocket', headers: Record<string, string> = {}): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.url = url;
  req.headers = { 'x-forwarded-for': address, ...headers };
  return req;
}

describe('CallAdmission', () => {
  let moduleRef: TestingModule;
  let audit: RecordingAudit;
  let admission: CallAdmission;

  beforeAll(() => Logger.overrideLogger(false));

  async function build(env: Record<string, string> = {}): Promise<void> {
    audit = new RecordingAudit();
    const config = AppConfig.from({ TRUSTED_PROXY: 'true', MAX_CALLS: '2', ...env });
    moduleRef = await callTestingModule({
      config,
      client: new FedLlmClient(),
      audit,
      providers: [CallAdmission, MetricsService, CallMetrics],
    });
    admission = moduleRef.get(CallAdmission);
  }

  afterEach(() => moduleRef.close());

  const refusals = async (reason: string) =>
    (await moduleRef.get(MetricsService).registry.getSingleMetric('millis_calls_refused_total')!.get()).values.find(
      (v) => v.labels.reason === reason,
    )?.value ?? 0;

  it('admits a call while there is room', async () => {
    await build();

    expect(admission.check(upgrade('203.0.113.7'), 0)).toBeNull();
    expect(admission.check(upgrade('203.0.113.7'), 1)).toBeNull();
  });

  it('refuses an address outside WS_ALLOWED_IPS with 403, before anything else', async () => {
    await build({ WS_ALLOWED_IPS: '10.0.0.0/8', WS_AUTH_TOKEN: TOKEN });

    expect(admission.check(upgrade('203.0.113.7', `/llm-websocket?token=${TOKEN}`), 0)).toEqual({
      status: 403,
      reason: 'forbidden_address',
    });
    expect(admission.check(upgrade('10.1.2.3', `/llm-websocket?token=${TOKEN}`), 0)).toBeNull();
    expect(await refusals('forbidden_address')).toBe(1);
  });

  it('refuses a missing or wrong WS_AUTH_TOKEN with 401; takes it as ?token= or a bearer header', async () => {
    await build({ WS_AUTH_TOKEN: TOKEN });

    expect(admission.check(upgrade('203.0.113.7'), 0)).toEqual({ status: 401, reason: 'unauthorized' });
    expect(admission.check(upgrade('203.0.113.7', '/llm-websocket?token=wrong'), 0)).toMatchObject({ status: 401 });
    expect(admission.check(upgrade('203.0.113.7', `/llm-websocket?token=${TOKEN}`), 0)).toBeNull();
    expect(admission.check(upgrade('203.0.113.7', '/', { authorization: `Bearer ${TOKEN}` }), 0)).toBeNull();
    expect(await refusals('unauthorized')).toBe(2);
  });

  it('refuses with 503 at MAX_CALLS open connections', async () => {
    await build();

    expect(admission.check(upgrade('203.0.113.7'), 2)).toEqual({ status: 503, reason: 'capacity' });
    expect(await refusals('capacity')).toBe(1);
  });

  it('refuses with 503 while the audit backlog is over its bound', async () => {
    await build();
    audit.overBound = true;

    expect(admission.check(upgrade('203.0.113.7'), 0)).toEqual({ status: 503, reason: 'audit_backlog' });
    audit.overBound = false;
    expect(admission.check(upgrade('203.0.113.7'), 0)).toBeNull();
  });

  it('refuses with 503 once the service drains, but a stranger still learns only 401', async () => {
    await build({ WS_AUTH_TOKEN: TOKEN });
    await moduleRef.get(CallService).onModuleDestroy();

    expect(admission.check(upgrade('203.0.113.7', `/llm-websocket?token=${TOKEN}`), 0)).toEqual({
      status: 503,
      reason: 'draining',
    });
    expect(admission.check(upgrade('203.0.113.7'), 0)).toEqual({ status: 401, reason: 'unauthorized' });
    expect(CallAdmission.statusText(503)).toBe('Service Unavailable');
  });
});
