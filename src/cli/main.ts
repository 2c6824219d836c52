// The `gatehouse` command line.

import { Command, CommanderError } from 'commander';
import { GatehouseConnectionError, GatehouseHttpError } from '../client/index.ts';
import { ConfigError } from '../config.ts';
import {
  ConflictError,
  GatehouseError,
  InvalidCredentialsError,
  NotFoundError,
  StoreUnavailableError,
  ValidationError,
} from '../core/errors.ts';
import { VERSION } from '../version.ts';
import { accountCommands } from './commands/account.ts';
import { copyCommand } from './commands/copy.ts';
import { policyCommands } from './commands/policy.ts';
import { serveCommand } from './commands/serve.ts';
import { userCommands } from './commands/users.ts';
import { CliError, EXIT } from './errors.ts';
import { processIo, type Io } from './io.ts';

export function buildProgram(io: Io): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse: identity and permission server')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  serveCommand(program, io);
  policyCommands(program, io);
  userCommands(program, io);
  accountCommands(program, io);
  copyCommand(program, io);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

/** The exit code and message for an error that reached the top. */
export function describeError(error: unknown): { code: number; message: string } {
  if (error instanceof CliError) return { code: error.exitCode, message: error.message };
  if (error instanceof GatehouseConnectionError) return { code: EXIT.unavailable, message: error.message };
  if (error instanceof GatehouseHttpError) {
    const detail = typeof error.detail === 'string' ? error.detail : JSON.stringify(error.detail);
    const code =
      error.status === 401 || error.status === 403
        ? EXIT.auth
        : error.status === 404
          ? EXIT.notFound
          : error.status === 503
            ? EXIT.unavailable
            : error.status >= 400 && error.status < 500
              ? EXIT.invalid
              : EXIT.failure;
    return { code, message: `server answered ${error.status}: ${detail}` };
  }
  if (error instanceof ConfigError) return { code: EXIT.invalid, message: `configuration: ${error.message}` };
  if (error instanceof InvalidCredentialsError) return { code: EXIT.auth, message: error.message };
  if (error instanceof NotFoundError) return { code: EXIT.notFound, message: error.message };
  if (error instanceof ValidationError || error instanceof ConflictError) return { code: EXIT.invalid, message: error.message };
  if (error instanceof StoreUnavailableError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return { code: EXIT.unavailable, message: `database unavailable${cause}` };
  }
  if (error instanceof GatehouseError) return { code: EXIT.failure, message: error.message };
  return { code: EXIT.failure, message: error instanceof Error ? error.message : String(error) };
}

export async function run(argv: readonly string[], io: Io = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    const { code, message } = describeError(error);
    io.stderr.write(`gatehouse: ${message}\n`);
    return code;
  }
}

if (import.meta.main) {
  const code = await run(process.argv.slice(2));
  if (code !== EXIT.ok || !process.argv.slice(2).includes('serve')) process.exitCode = code;
}
