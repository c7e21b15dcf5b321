import type { IncomingMessage } from 'node:http';
import { bearerToken } from './secrets';

/** The WebSocket token from `Authorization: Bearer …` or the `token` query parameter. */
export function presentedToken(req: IncomingMessage): string | undefined {
  const bearer = bearerToken(req.headers.authorization);
  if (bearer !== undefined) return bearer;
  return new URL(req.url ?? '/', 'http://localhost').searchParams.get('token') ?? undefined;
}
