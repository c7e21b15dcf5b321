import { IsInt, Max, Min } from 'class-validator';
import { ToolRegistry } from '../../../src/tools/tool-registry';
import type { ToolContext } from '../../../src/tools/tool-context';
import type { TestApp } from '../../support/test-app';

export class SlowLookupDto {
  @IsInt()
  @Min(0)
  @Max(60_000)
  ms: number;
}

/** What the slow test tool saw: tests assert that its AbortSignal fired. */
export interface SlowToolProbe {
  started: number;
  aborted: number;
  lastReason: unknown;
}

/**
 * Registers `slow_lookup` by hand (the registry's programmatic path): it waits `ms`
 * unless its signal aborts first, and says so through the probe.
 */
export function registerSlowTool(t: TestApp, name = 'slow_lookup', timeoutMs?: number): SlowToolProbe {
  const probe: SlowToolProbe = { started: 0, aborted: 0, lastReason: undefined };
  t.app.get(ToolRegistry).register(
    {
      name,
      description: 'Looks something up slowly.',
      parameters: SlowLookupDto,
      filler: 'One moment while I check.',
      timeoutMs,
    },
    (args, ctx: ToolContext) =>
      new Promise((resolve, reject) => {
        probe.started++;
        const timer = setTimeout(() => resolve({ found: true }), (args as SlowLookupDto).ms);
        ctx.signal.addEventListener('abort', () => {
          probe.aborted++;
          probe.lastReason = ctx.signal.reason;
          clearTimeout(timer);
          reject(new Error('aborted'));
        });
      }),
  );
  return probe;
}

export async function exchangeRows(t: TestApp, sessionId: string) {
  const { rows } = await t.db.query(
    `SELECT e.* FROM stream_exchanges e JOIN call_sessions s ON s.id = e.call_session_id
     WHERE s.session_id = $1 ORDER BY e.requested_at, e.stream_id`,
    [sessionId],
  );
  return rows;
}

export async function sessionRow(t: TestApp, sessionId: string) {
  const { rows } = await t.db.query(`SELECT * FROM call_sessions WHERE session_id = $1`, [sessionId]);
  return rows[0];
}
