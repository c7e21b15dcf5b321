/** A line the transfer_call tool may send a call to. */
export interface TransferDestination {
  /** What the model picks (the only thing it sees). */
  name: string;
  /** Phone number (E.164) or SIP URI sent in the transfer_call frame. */
  destination: string;
  description?: string;
}

/**
 * What tools know of the agent a call runs with. Declared here, not in agents/, so that
 * agents/ (which checks profiles against the registry) depends on tools/ and not back.
 */
export interface ToolAgent {
  agentId: string;
  /** Names of the tools the model is offered (built-ins included). */
  tools: readonly string[];
  transferDestinations: readonly TransferDestination[];
}
