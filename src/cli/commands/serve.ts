// gatehouse serve — run the server. Every configuration key has a flag here (see CONFIG_KEYS).

import { Option, type Command } from 'commander';
import { CONFIG_KEYS, DEFAULTS, envName, flagName, type Config } from '../../config.ts';
import { configFrom, localOptions, type LocalOptions } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import type { Io } from '../io.ts';

/** Keys whose flags come from localOptions (shared with the other local commands). */
const SHARED: ReadonlySet<string> = new Set(['dataDir', 'databaseUrl']);
const SHORT: Partial<Record<keyof Config, string>> = { port: '-p', bundle: '-b' };

function valueName(key: keyof Config): string {
  const kind = CONFIG_KEYS[key].kind;
  switch (kind.type) {
    case 'int':
    case 'nullableInt':
      return key === 'port' || key === 'httpRedirectPort' ? 'port' : 'n';
    case 'bool':
      return 'bool';
    case 'list':
      return 'list';
    case 'enum':
      return 'level';
    default:
      return key === 'bundle' || key === 'tlsCert' || key === 'tlsKey' ? 'file' : key === 'host' ? 'address' : 'value';
  }
}

function defaultText(key: keyof Config): string {
  const value = DEFAULTS[key];
  if (value === null || value === '') return '';
  return ` (default ${Array.isArray(value) ? value.join(',') : String(value)})`;
}

/** The flag of every configuration key, with the option object that reads it back. */
function configOptions(): { key: keyof Config; option: Option }[] {
  const out: { key: keyof Config; option: Option }[] = [];
  for (const key of Object.keys(CONFIG_KEYS) as (keyof Config)[]) {
    if (SHARED.has(key)) continue;
    const short = SHORT[key];
    const optional = CONFIG_KEYS[key].kind.type === 'bool';
    const flags = `${short ? `${short}, ` : ''}${flagName(key)} ${optional ? `[${valueName(key)}]` : `<${valueName(key)}>`}`;
    out.push({ key, option: new Option(flags, `${CONFIG_KEYS[key].help}${defaultText(key)}; also ${envName(key)}`) });
  }
  return out;
}

export function serveCommand(program: Command, io: Io): void {
  const command = localOptions(
    program
      .command('serve')
      .description('run the Gatehouse server (JSON log lines on stdout; stops gracefully on SIGTERM/SIGINT)'),
  );
  const options = configOptions();
  for (const { option } of options) command.addOption(option);
  command.addHelpText(
    'after',
    '\nPrecedence: flags > GATEHOUSE_* environment > config file > defaults.\n' +
      'The server notices policy changes made by "gatehouse apply" or "gatehouse user ..." while it runs.\n' +
      'With --tls-cert and --tls-key it serves HTTPS; SIGHUP reloads the certificate and key without a restart.\n',
  );
  command.action(async (opts: LocalOptions) => {
    const flags: Partial<Record<keyof Config, unknown>> = {};
    for (const { key, option } of options) {
      const value: unknown = command.getOptionValue(option.attributeName());
      if (value !== undefined) flags[key] = value;
    }
    const config = configFrom(io, opts, flags);
    const { closeOnSignals, ListenError, reloadTlsOnSighup, startServer } = await import('../../server.ts');
    let server;
    try {
      server = await startServer(config);
    } catch (error) {
      if (error instanceof ListenError) throw new CliError(error.message, EXIT.unavailable);
      throw error;
    }
    closeOnSignals(server);
    reloadTlsOnSighup(server);
  });
}
