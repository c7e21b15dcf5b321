import { ConfigValidationError } from './config-validation-error';

/** A command-line tool was given wrong arguments: it exits 2 and prints its usage. */
export class UsageError extends Error {}

/**
 * Runs a command-line tool (`npm run retention`, `npm run analyze`) and exits with its code: 2
 * with the usage for wrong arguments, 1 for any other failure (a configuration problem as its
 * list of problems, without a stack).
 */
export function runCommandLine(main: () => Promise<number>, usage: string): void {
  main()
    .then((code) => process.exit(code))
    .catch((error: unknown) => {
      if (error instanceof UsageError) console.error(`${error.message}\n${usage}`);
      else console.error(error instanceof ConfigValidationError ? error.message : error);
      process.exit(error instanceof UsageError ? 2 : 1);
    });
}
