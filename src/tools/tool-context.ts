import type { ToolAgent } from './tool-agent';

/** A change to the call itself, carried out after the tool round that asked for it. */
export type CallControlAction =
  { kind: 'end_call'; farewell?: string } | { kind: 'transfer_call'; destination: string; destinationName: string };

/** What a tool knows about the call it runs in. */
export interface ToolContext {
  /** Aborted on interrupt, on a newer stream_request, on hang-up and when the tool times out. */
  signal: AbortSignal;
  call: {
    sessionId: string;
    agentId: string;
    streamId: number;
    callSid: string | null;
    metadata: Record<string, unknown> | null;
    fromNumber: string | null;
    toNumber: string | null;
  };
  agent: ToolAgent;
  /** Ends or transfers the call once this round's tools have finished (the model is not asked again). */
  requestCallControl(action: CallControlAction): void;
}

/** Thrown by a tool to tell the model what went wrong; the message is sent to the model as the tool's error. */
export class ToolError extends Error {}
