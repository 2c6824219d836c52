// Exit codes of the `gatehouse` command. Errors go to stderr; data to stdout.

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** Not logged in, wrong credentials, token or key refused. */
  auth: 3,
  notFound: 4,
  /** Bad input: invalid bundle, bad config value, conflict. */
  invalid: 5,
  /** The server or the database could not be reached. */
  unavailable: 6,
} as const;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
