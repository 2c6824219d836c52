// gatehouse app add / list / remove — applications (Venafi API integrations: a client_id and the
// TPP scopes it may request); works on the store directly.

import type { Command } from 'commander';
import type { Application } from '../../core/model.ts';
import { localOptions, withServices, type LocalOptions } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { printJson, printLine, printTable, type Io } from '../io.ts';

function appJson(a: Application) {
  return {
    client_id: a.clientId,
    name: a.name,
    scopes: a.scopes,
    access_token_ttl: a.accessTokenTtl,
    grant_ttl: a.grantTtl,
    allow_refresh: a.allowRefresh,
  };
}

function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(value)) throw new CliError(`${flag} must be a whole number of seconds above 0`, EXIT.usage);
  return Number(value);
}

interface AddOptions extends LocalOptions {
  scopes: string;
  name?: string;
  tokenTtl?: string;
  grantTtl?: string;
  refresh: boolean;
  json?: boolean;
}

export function appCommands(program: Command, io: Io): void {
  const app = program.command('app').description('manage applications: the client_ids of the Venafi TPP face and the scopes they may request');

  localOptions(
    app
      .command('add')
      .description('create an application')
      .argument('<clientId>', 'the client_id its clients send')
      .requiredOption('--scopes <scopes>', 'TPP scopes it may request, e.g. "certificate:manage,revoke;ssh:manage"')
      .option('--name <name>', 'a name to show')
      .option('--token-ttl <seconds>', 'access token lifetime (default 7776000: 90 days)')
      .option('--grant-ttl <seconds>', 'grant lifetime, the end of refreshing (default 31536000: 365 days)')
      .option('--no-refresh', 'issue no refresh tokens')
      .option('--json', 'print the created application as JSON'),
  ).action(async (clientId: string, opts: AddOptions) => {
    const accessTokenTtl = seconds('--token-ttl', opts.tokenTtl);
    const grantTtl = seconds('--grant-ttl', opts.grantTtl);
    const created = await withServices(io, opts, (s) =>
      s.applications.add({
        clientId,
        scopes: opts.scopes,
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...(accessTokenTtl !== undefined ? { accessTokenTtl } : {}),
        ...(grantTtl !== undefined ? { grantTtl } : {}),
        allowRefresh: opts.refresh,
      }),
    );
    if (opts.json) printJson(io, appJson(created));
    else printLine(io, `created application ${created.clientId} (scopes ${created.scopes})`);
  });

  localOptions(app.command('list').description('list applications').option('--json', 'print as JSON')).action(
    async (opts: LocalOptions & { json?: boolean }) => {
      const apps = await withServices(io, opts, (s) => s.applications.list());
      if (opts.json) printJson(io, apps.map(appJson));
      else {
        printTable(
          io,
          ['CLIENT_ID', 'SCOPES', 'TOKEN_TTL', 'GRANT_TTL', 'REFRESH', 'NAME'],
          apps.map((a) => [a.clientId, a.scopes, String(a.accessTokenTtl), String(a.grantTtl), a.allowRefresh ? 'yes' : 'no', a.name ?? '-']),
        );
      }
    },
  );

  localOptions(
    app
      .command('remove')
      .description('delete an application and every grant issued to it (their tokens stop working)')
      .argument('<clientId>')
      .option('--json', 'print the result as JSON'),
  ).action(async (clientId: string, opts: LocalOptions & { json?: boolean }) => {
    await withServices(io, opts, (s) => s.applications.remove(clientId));
    if (opts.json) printJson(io, { client_id: clientId, removed: true });
    else printLine(io, `application ${clientId} removed`);
  });
}
