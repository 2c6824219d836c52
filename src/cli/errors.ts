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
  /** The server, the database or the listening port could not be reached or used. */
  unavailable: 6,
} as const;

/** What each exit code means; printed by `gatehouse --help` and listed in the README. */
export const EXIT_CODE_HELP: readonly (readonly [code: number, meaning: string])[] = [
  [EXIT.ok, 'success'],
  [EXIT.failure, 'failure not covered below'],
  [EXIT.usage, 'usage: unknown command or option, missing argument, no terminal to ask on'],
  [EXIT.auth, 'authentication: not logged in, wrong password, token or API key refused'],
  [EXIT.notFound, 'not found: no such user, role, API key or session'],
  [EXIT.invalid, 'invalid input: bad bundle or file, bad configuration value, conflict'],
  [EXIT.unavailable, 'unavailable: server or database unreachable, port already in use'],
];

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
