import { DataSource } from 'typeorm';
import { BUS_CHANNELS, BusSender, MAX_PAYLOAD_BYTES } from '../../../src/cluster-bus/bus-messages';
import { ClusterBus } from '../../../src/cluster-bus/cluster-bus.service';
import { AppConfig } from '../../../src/config/app-config';
import { ProcessRole } from '../../../src/config/process-role';
import { buildDataSourceOptions } from '../../../src/database/data-source-options';
import { ServiceInstance } from '../../../src/instance/service-instance';
import { eventually } from '../../support/eventually';
import { proxiedTestDatabase, TcpProxy } from '../../support/tcp-proxy';
import { TEST_DATABASE_URL } from '../../support/test-database';

/** A bus as one instance runs it, on `url`; the DataSource only lends it its URL (never initialised). */
function busOn(url: string, name: string): ClusterBus {
  const instance = new ServiceInstance(AppConfig.from({ INSTANCE_NAME: name }), new ProcessRole(null));
  return new ClusterBus(new DataSource(buildDataSourceOptions(url)), instance);
}

interface Heard {
  agentId: string;
  sender: BusSender;
}

describe('The Postgres bus (LISTEN/NOTIFY on a connection of its own)', () => {
  let proxy: TcpProxy;
  let direct: ClusterBus;
  let proxied: ClusterBus;
  const heardByProxied: Heard[] = [];
  const heardByDirect: Heard[] = [];
  const proxiedConnections: boolean[] = [];

  beforeAll(async () => {
    const proxiedDb = await proxiedTestDatabase();
    proxy = proxiedDb.proxy;
    direct = busOn(TEST_DATABASE_URL, 'bus-test-direct');
    proxied = busOn(proxiedDb.url, 'bus-test-proxied');
    direct.subscribe(BUS_CHANNELS.agentProfiles, ({ agentId }, sender) => heardByDirect.push({ agentId, sender }));
    proxied.subscribe(BUS_CHANNELS.agentProfiles, ({ agentId }, sender) => heardByProxied.push({ agentId, sender }));
    proxied.onConnected((again) => proxiedConnections.push(again));
    direct.onApplicationBootstrap();
    proxied.onApplicationBootstrap();
    await eventually(() => expect([direct.isConnected, proxied.isConnected]).toEqual([true, true]), 10_000);
  });
  afterAll(async () => {
    await direct.onApplicationShutdown();
    await proxied.onApplicationShutdown();
    await proxy.stop();
  });

  it('delivers a message to every listener, with who sent it', async () => {
    proxied.publish(BUS_CHANNELS.agentProfiles, { agentId: 'greeter' });

    await eventually(() => expect(heardByDirect.map((h) => h.agentId)).toContain('greeter'));
    const heard = heardByDirect.find((h) => h.agentId === 'greeter')!;
    expect(heard.sender).toEqual({ origin: proxied.sender.origin, group: 'bus-test-proxied' });
    // Its own messages come back to the sender too: each subscriber decides what to skip.
    await eventually(() => expect(heardByProxied.map((h) => h.agentId)).toContain('greeter'));
  });

  it('splits a message over the 8000-byte limit into parts Postgres accepts, and puts it together', async () => {
    const agentId = `long-${'ü😀"\\'.repeat(6_000)}`;
    const sentBefore = direct.stats.sent;

    direct.publish(BUS_CHANNELS.agentProfiles, { agentId });

    await eventually(() => expect(heardByProxied.some((h) => h.agentId === agentId)).toBe(true));
    const parts = direct.stats.sent - sentBefore;
    expect(parts).toBeGreaterThan(Buffer.byteLength(agentId) / MAX_PAYLOAD_BYTES);
    expect(direct.stats.refused + proxied.stats.refused).toBe(0);
  });

  it('drops what is published while Postgres is away (counted, never waiting), then reconnects and says so', async () => {
    expect(proxiedConnections).toEqual([false]);
    proxy.cut();
    await eventually(() => expect(proxied.isConnected).toBe(false), 10_000);

    const dropped = proxied.stats.dropped.disconnected;
    proxied.publish(BUS_CHANNELS.agentProfiles, { agentId: 'lost-while-away' });
    // Dropped at once, in the call itself: nothing waits for Postgres to come back.
    expect(proxied.stats.dropped.disconnected).toBe(dropped + 1);
    // What the others said meanwhile does not reach it: the reconnect is its cue to catch up.
    direct.publish(BUS_CHANNELS.agentProfiles, { agentId: 'missed-while-away' });
    await eventually(() => expect(heardByDirect.map((h) => h.agentId)).toContain('missed-while-away'));

    proxy.restore();
    await eventually(() => expect(proxied.isConnected).toBe(true), 15_000);
    expect(proxiedConnections).toEqual([false, true]);
    expect(proxied.stats.reconnects).toBe(1);
    expect(heardByProxied.map((h) => h.agentId)).not.toContain('missed-while-away');
    expect(heardByDirect.map((h) => h.agentId)).not.toContain('lost-while-away');

    direct.publish(BUS_CHANNELS.agentProfiles, { agentId: 'after-the-outage' });
    await eventually(() => expect(heardByProxied.map((h) => h.agentId)).toContain('after-the-outage'));
  });
});
