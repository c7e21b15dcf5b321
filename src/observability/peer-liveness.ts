/** Sockets we terminated because the peer stopped answering pings. */
const lost = new WeakSet<object>();

export function markPeerLost(socket: object): void {
  lost.add(socket);
}

/** True if the socket was closed because its peer missed a pong (end_reason 'peer_lost'). */
export function isPeerLost(socket: object): boolean {
  return lost.has(socket);
}
