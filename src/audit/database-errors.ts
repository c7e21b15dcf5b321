import { OrphanRowsError } from './audit.repository';

/**
 * SQLSTATE classes that mean "this data cannot be stored" rather than "the database
 * is unavailable": data exceptions (22), integrity violations (23) and syntax or
 * access problems (42). Anything else, connection errors included, is worth a retry.
 */
const DATA_ERROR_CLASSES = ['22', '23', '42'];

export function isDataError(error: unknown): boolean {
  if (error instanceof OrphanRowsError) return true;
  const code = (error as { code?: unknown; driverError?: { code?: unknown } })?.driverError?.code ?? (error as { code?: unknown })?.code;
  return typeof code === 'string' && code.length === 5 && DATA_ERROR_CLASSES.includes(code.slice(0, 2));
}
