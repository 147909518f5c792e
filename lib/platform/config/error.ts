/**
 * Thrown at start-up when the environment is invalid. It names every bad variable at once, so a
 * deployment is fixed in one round instead of one variable per cold start.
 */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration: ${issues.join('; ')}`);
    this.name = 'ConfigError';
  }
}
