import type { Pool } from 'pg';
import type { FakeLlmServer, RecordedRequest } from '../../../dev/fake-llm/fake-llm-server';
import { MillisPlatformClient } from '../../support/millis-platform-client';

export const ANALYSIS_API_KEY = 'analysis-test-key-0123456789';

/** The agent profile's analysis settings the suites use. */
export const ANALYSED_AGENT = {
  analysis: {
    enabled: true,
    custom_fields: [
      { name: 'appointment_booked', type: 'boolean', description: 'Did the caller book a visit?' },
      { name: 'order_number', type: 'string' },
      { name: 'plan', type: 'enum', values: ['basic', 'gold'] },
    ],
    instructions: 'Calls of the front desk.',
  },
};

/** A whole call: start, one reply per utterance, hang up. */
export async function placeCall(
  wsUrl: string,
  sessionId: string,
  agentId: string,
  utterances: string[],
): Promise<void> {
  const client = await MillisPlatformClient.connect(wsUrl);
  client.startCall({ session_id: sessionId, agent_id: agentId, stream_id: 0 });
  await client.waitForEnd(0);
  const transcript: Array<{ role: 'user' | 'assistant'; content: string }> = [];
  for (const [i, said] of utterances.entries()) {
    transcript.push({ role: 'user', content: said });
    client.streamRequest(i + 1, [...transcript]);
    transcript.push({ role: 'assistant', content: await client.waitForEnd(i + 1) });
  }
  await client.close();
}

export async function analysisOf(db: Pool, sessionId: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query(
    `SELECT a.* FROM call_analyses a JOIN call_sessions s ON s.id = a.call_session_id WHERE s.session_id = $1`,
    [sessionId],
  );
  return rows[0];
}

/** The model requests of analyses (structured outputs) about a call, by a word of its transcript. */
export function analysisRequests(fakeLlm: FakeLlmServer, marker: string): RecordedRequest[] {
  return fakeLlm.requests.filter(
    (r) => r.body.response_format !== undefined && JSON.stringify(r.body.messages).includes(marker),
  );
}
