import { InitialSchema1764118800000 } from './1764118800000-initial-schema';
import { CallHistory1764900000000 } from './1764900000000-call-history';

/** Every migration in order; listed explicitly so they load the same from src/ and dist/. */
export const MIGRATIONS = [InitialSchema1764118800000, CallHistory1764900000000];
