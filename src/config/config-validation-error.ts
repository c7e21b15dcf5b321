/**
 * The configuration cannot be used. `problems` holds every one found, each `VARIABLE: what is wrong`;
 * the message lists them as start-up prints it.
 */
export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';

  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}\nSee .env.example for every variable.`,
    );
  }
}
