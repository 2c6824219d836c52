// gatehouse login / logout / whoami / scopes / apikey … — talk to a running server.

import type { Command } from 'commander';
import { GatehouseClient, GatehouseHttpError } from '../../client/index.ts';
import { DEFAULT_SERVER, remoteClient, remoteOptions, type RemoteOptions } from '../context.ts';
import { loadCredentials, removeCredentials, saveCredentials } from '../credentials.ts';
import { CliError, EXIT } from '../errors.ts';
import { printJson, printLine, printTable, promptSecret, readStdin, type Io } from '../io.ts';

interface JsonOption {
  json?: boolean;
}

export function accountCommands(program: Command, io: Io): void {
  program
    .command('login')
    .description('log in to a server and save the tokens (mode 0600) for later commands')
    .argument('<username>')
    .option('-s, --server <url>', `server (default ${DEFAULT_SERVER}); also GATEHOUSE_SERVER`)
    .option('--provider <name>', 'login provider', 'local')
    .option('--password-stdin', 'read the password from standard input')
    .option('--json', 'print the result as JSON')
    .action(async (username: string, opts: { server?: string; provider: string; passwordStdin?: boolean } & JsonOption) => {
      const server = (opts.server ?? io.env.GATEHOUSE_SERVER ?? DEFAULT_SERVER).replace(/\/+$/, '');
      const password = opts.passwordStdin ? await readStdin(io) : await promptSecret(io, `Password for ${username}: `);
      const client = new GatehouseClient({ baseUrl: server });
      let tokens;
      try {
        tokens = await client.login(username, password, opts.provider);
      } catch (error) {
        if (error instanceof GatehouseHttpError && error.status === 401) {
          throw new CliError(`login to ${server} failed: ${typeof error.detail === 'string' ? error.detail : 'refused'}`, EXIT.auth);
        }
        if (error instanceof GatehouseHttpError && error.status === 404) {
          throw new CliError(`login to ${server} failed: no login provider "${opts.provider}" there`, EXIT.notFound);
        }
        throw error;
      }
      const path = saveCredentials(io.env, {
        server,
        username,
        provider: opts.provider,
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
      });
      if (opts.json) printJson(io, { server, username, credentials: path });
      else printLine(io, `logged in to ${server} as ${username}`);
    });

  program
    .command('logout')
    .description('end the saved session on the server and forget its tokens')
    .option('--json', 'print the result as JSON')
    .action(async (opts: JsonOption) => {
      const saved = loadCredentials(io.env);
      if (!saved) throw new CliError('not logged in', EXIT.auth);
      const client = remoteClient(io, { server: saved.server });
      let serverSide = true;
      try {
        await client.logout();
      } catch {
        serverSide = false; // the tokens are forgotten anyway
      }
      removeCredentials(io.env);
      if (opts.json) printJson(io, { server: saved.server, session_revoked: serverSide });
      else printLine(io, serverSide ? `logged out of ${saved.server}` : `forgot the tokens for ${saved.server} (the server did not confirm the logout)`);
    });

  remoteOptions(program.command('whoami').description('show who you are on the server').option('--json', 'print as JSON')).action(
    async (opts: RemoteOptions & JsonOption) => {
      const me = await remoteClient(io, opts).whoami();
      if (opts.json) return printJson(io, me);
      const name = me.identities[0]?.id ?? me.uuid;
      printLine(io, `${name} (${me.type} ${me.uuid})`);
      printLine(io, `roles:  ${me.roles.join(', ') || '(none)'}`);
      printLine(io, `scopes: ${me.scopes.join(' ') || '(none)'}`);
      printLine(io, `API keys: ${me.api_keys.length}, sessions: ${me.sessions.length}`);
    },
  );

  remoteOptions(program.command('scopes').description('show your roles and effective scopes').option('--json', 'print as JSON')).action(
    async (opts: RemoteOptions & JsonOption) => {
      const result = await remoteClient(io, opts).scopes();
      if (opts.json) return printJson(io, result);
      printLine(io, `roles: ${result.roles.join(', ') || '(none)'}`);
      for (const scope of result.scopes) printLine(io, scope);
    },
  );

  const apikey = program.command('apikey').description('manage your API keys');

  remoteOptions(
    apikey
      .command('create')
      .description('create an API key (the secret is printed once)')
      .option('--scopes <scopes>', 'comma-separated scopes (default: inherit all of yours)')
      .option('--expires-in <seconds>', 'lifetime in seconds (default: never expires)')
      .option('--note <text>', 'a note to recognise the key by')
      .option('--json', 'print as JSON'),
  ).action(async (opts: RemoteOptions & JsonOption & { scopes?: string; expiresIn?: string; note?: string }) => {
    let expiresIn: number | null = null;
    if (opts.expiresIn !== undefined) {
      if (!/^\d+$/.test(opts.expiresIn)) throw new CliError('--expires-in must be a whole number of seconds', EXIT.usage);
      expiresIn = Number(opts.expiresIn);
    }
    const key = await remoteClient(io, opts).createApiKey({
      expiresIn,
      scopes: opts.scopes?.split(',').map((s) => s.trim()).filter(Boolean),
      note: opts.note,
    });
    if (opts.json) return printJson(io, key);
    printLine(io, key.secret);
    io.stderr.write(`API key ${key.first_eight}… created; scopes: ${key.scopes.join(' ')}. Store the secret now: it is not shown again.\n`);
  });

  remoteOptions(apikey.command('list').description('list your API keys').option('--json', 'print as JSON')).action(
    async (opts: RemoteOptions & JsonOption) => {
      const keys = (await remoteClient(io, opts).whoami()).api_keys;
      if (opts.json) return printJson(io, keys);
      printTable(
        io,
        ['FIRST_EIGHT', 'SCOPES', 'EXPIRES', 'LAST_USED', 'NOTE'],
        keys.map((k) => [k.first_eight, k.scopes.join(' '), k.expiration_time ?? 'never', k.latest_activity ?? '-', k.note ?? '']),
      );
    },
  );

  remoteOptions(
    apikey.command('revoke').description('revoke one of your API keys').argument('<first_eight>').option('--json', 'print as JSON'),
  ).action(async (firstEight: string, opts: RemoteOptions & JsonOption) => {
    await remoteClient(io, opts).deleteApiKey(firstEight);
    if (opts.json) printJson(io, { revoked: firstEight });
    else printLine(io, `API key ${firstEight} revoked`);
  });
}
