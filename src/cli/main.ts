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
import { appCommands } from './commands/apps.ts';
import { certCommands } from './commands/cert.ts';
import { copyCommand } from './commands/copy.ts';
import { policyCommands } from './commands/policy.ts';
import { serveCommand } from './commands/serve.ts';
import { userCommands } from './commands/users.ts';
import { credentialsPath } from './credentials.ts';
import { CliError, EXIT, EXIT_CODE_HELP } from './errors.ts';
import { processIo, type Io } from './io.ts';

function programHelp(io: Io): string {
  const codes = EXIT_CODE_HELP.map(([code, meaning]) => `  ${code}  ${meaning}`).join('\n');
  return [
    '',
    'Data goes to standard output (--json for machine-readable output); messages and errors to',
    'standard error.',
    '',
    'Exit codes:',
    codes,
    '',
    'Environment:',
    '  GATEHOUSE_DATA_DIR, GATEHOUSE_DATABASE_URL, GATEHOUSE_CONFIG and every GATEHOUSE_* setting',
    '                          configure serve and the local commands (apply, export, migrate, user)',
    '  GATEHOUSE_SERVER        server for login, whoami, scopes, apikey (default http://127.0.0.1:8000)',
    '  GATEHOUSE_API_KEY       authenticate remote commands with an API key instead of the saved login',
    '  GATEHOUSE_CREDENTIALS   where "login" saves its tokens (mode 0600); now:',
    `                          ${credentialsPath(io.env)}`,
    '',
    'Run "gatehouse <command> --help" for the options of a command.',
    '',
  ].join('\n');
}

/** Makes commander throw instead of exiting, on every level of subcommand. */
function overrideExits(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) overrideExits(sub);
}

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
  appCommands(program, io);
  accountCommands(program, io);
  copyCommand(program, io);
  certCommands(program, io);
  program.addHelpText('after', () => programHelp(io));
  overrideExits(program);
  return program;
}

/** The exit code and message for an error that reached the top. */
export function describeError(error: unknown): { code: number; message: string } {
  if (error instanceof CliError) return { code: error.exitCode, message: error.message };
  if (error instanceof GatehouseConnectionError) return { code: EXIT.unavailable, message: error.message };
  if (error instanceof GatehouseHttpError) {
    const detail = describeDetail(error.detail);
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
  const system = systemError(error);
  if (system) return system;
  return { code: EXIT.failure, message: error instanceof Error ? error.message : String(error) };
}

/** A server's error detail as one line: a string, or FastAPI-style validation issues. */
function describeDetail(detail: unknown): string {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((issue: { loc?: unknown; msg?: unknown }) => {
        const loc = Array.isArray(issue?.loc) ? issue.loc.join('.') : '';
        return `${loc ? `${loc}: ` : ''}${typeof issue?.msg === 'string' ? issue.msg : JSON.stringify(issue)}`;
      })
      .join('; ');
  }
  return JSON.stringify(detail);
}

/** Errors from the operating system (files, directories), named by path. */
function systemError(error: unknown): { code: number; message: string } | null {
  if (!(error instanceof Error)) return null;
  const { code, path, syscall } = error as Error & { code?: unknown; path?: unknown; syscall?: unknown };
  if (typeof code !== 'string' || typeof syscall !== 'string') return null;
  const what = typeof path === 'string' ? `${syscall} ${path}` : syscall;
  const reason: Record<string, string> = {
    ENOENT: 'no such file or directory',
    ENOTDIR: 'a part of the path is not a directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
  };
  return { code: code === 'ENOENT' ? EXIT.notFound : EXIT.failure, message: `${what}: ${reason[code] ?? error.message}` };
}

export async function run(argv: readonly string[], io: Io = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed its message (and help) on stderr already; --help and --version exit 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { code, message } = describeError(error);
    io.stderr.write(`gatehouse: ${message}\n`);
    return code;
  }
}

if (import.meta.main) {
  const code = await run(process.argv.slice(2));
  if (code !== EXIT.ok) process.exitCode = code;
}
