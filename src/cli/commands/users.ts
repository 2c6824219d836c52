// gatehouse user add / list / passwd / disable / enable / roles / remove — works on the store directly.

import type { Command } from 'commander';
import type { PrincipalWithSecret } from '../../core/model.ts';
import { localOptions, withServices, type LocalOptions } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { printJson, printLine, printTable, promptSecret, readStdin, type Io } from '../io.ts';

function userJson(p: PrincipalWithSecret) {
  return {
    uuid: p.id,
    username: p.username,
    type: p.type,
    email: p.email,
    roles: p.roles,
    groups: p.groups,
    disabled: p.disabled,
    admin: p.admin,
    has_password: p.passwordHash !== null,
  };
}

interface JsonOption {
  json?: boolean;
}

/** Reports a change: a JSON object with --json, otherwise one line. */
function done(io: Io, opts: JsonOption, result: Record<string, unknown>, line: string): void {
  if (opts.json) printJson(io, result);
  else printLine(io, line);
}

function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

async function passwordFrom(io: Io, opts: { passwordStdin?: boolean }, username: string, required: boolean): Promise<string | null> {
  if (opts.passwordStdin) {
    const password = await readStdin(io);
    if (!password) throw new CliError('no password on standard input', EXIT.invalid);
    return password;
  }
  if (!io.stdin.isTTY) {
    if (required) throw new CliError('pass the password on standard input with --password-stdin', EXIT.usage);
    return null;
  }
  const first = await promptSecret(io, `Password for ${username}: `);
  const second = await promptSecret(io, 'Repeat password: ');
  if (first !== second) throw new CliError('passwords do not match', EXIT.invalid);
  return first;
}

export function userCommands(program: Command, io: Io): void {
  const user = program.command('user').description('manage users and service principals in the database');

  localOptions(
    user
      .command('add')
      .description('create a user (asks for a password on a terminal)')
      .argument('<username>')
      .option('-r, --role <roles>', 'role(s), comma-separated or repeated', list)
      .option('-g, --group <groups>', 'group(s), comma-separated or repeated', list)
      .option('-e, --email <email>')
      .option('--service', 'a service principal (no password; uses API keys)')
      .option('--password-stdin', 'read the password from standard input')
      .option('--no-password', 'create without a password')
      .option('--json', 'print the created user as JSON'),
  ).action(
    async (
      username: string,
      opts: LocalOptions & { role?: string[]; group?: string[]; email?: string; service?: boolean; passwordStdin?: boolean; password?: boolean; json?: boolean },
    ) => {
      const password = opts.service || opts.password === false ? null : await passwordFrom(io, opts, username, false);
      const created = await withServices(io, opts, (s) =>
        s.users.add({
          username,
          password,
          email: opts.email ?? null,
          roles: opts.role ?? [],
          groups: opts.group ?? [],
          type: opts.service ? 'service' : 'user',
        }),
      );
      if (opts.json) printJson(io, userJson(created));
      else printLine(io, `created ${created.type} ${created.username} (${created.id})`);
    },
  );

  localOptions(user.command('list').description('list users and services').option('--json', 'print as JSON')).action(
    async (opts: LocalOptions & { json?: boolean }) => {
      const users = await withServices(io, opts, (s) => s.users.list());
      if (opts.json) printJson(io, users.map(userJson));
      else {
        printTable(
          io,
          ['USERNAME', 'TYPE', 'ROLES', 'GROUPS', 'STATUS', 'UUID'],
          users.map((u) => [u.username, u.type, u.roles.join(',') || '-', u.groups.join(',') || '-', u.disabled ? 'disabled' : 'active', u.id]),
        );
      }
    },
  );

  localOptions(
    user
      .command('passwd')
      .description("set a user's password (asks on a terminal)")
      .argument('<username>')
      .option('--password-stdin', 'read the password from standard input')
      .option('--json', 'print the result as JSON'),
  ).action(async (username: string, opts: LocalOptions & JsonOption & { passwordStdin?: boolean }) => {
    const password = await passwordFrom(io, opts, username, true);
    if (!password) throw new CliError('the password must not be empty', EXIT.invalid);
    await withServices(io, opts, (s) => s.users.setPassword(username, password));
    done(io, opts, { username, password_changed: true }, `password of ${username} changed`);
  });

  localOptions(
    user.command('disable').description('disable a user and end all their sessions').argument('<username>').option('--json', 'print the result as JSON'),
  ).action(async (username: string, opts: LocalOptions & JsonOption) => {
    await withServices(io, opts, (s) => s.users.setDisabled(username, true));
    done(io, opts, { username, disabled: true }, `${username} disabled`);
  });

  localOptions(
    user.command('enable').description('enable a disabled user').argument('<username>').option('--json', 'print the result as JSON'),
  ).action(async (username: string, opts: LocalOptions & JsonOption) => {
    await withServices(io, opts, (s) => s.users.setDisabled(username, false));
    done(io, opts, { username, disabled: false }, `${username} enabled`);
  });

  localOptions(
    user
      .command('roles')
      .description("replace a user's roles")
      .argument('<username>')
      .argument('<roles...>', 'role names, space- or comma-separated (none: pass "")')
      .option('--json', 'print the result as JSON'),
  ).action(async (username: string, roles: string[], opts: LocalOptions & JsonOption) => {
    const names = roles.flatMap((r) => list(r));
    await withServices(io, opts, (s) => s.users.setRoles(username, names));
    done(io, opts, { username, roles: names }, `${username}: roles ${names.join(', ') || '(none)'}`);
  });

  localOptions(
    user.command('remove').description('delete a user with their keys and sessions').argument('<username>').option('--json', 'print the result as JSON'),
  ).action(async (username: string, opts: LocalOptions & JsonOption) => {
    await withServices(io, opts, (s) => s.users.remove(username));
    done(io, opts, { username, removed: true }, `${username} removed`);
  });
}
