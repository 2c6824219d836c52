// gatehouse copy --from <url> --to <url> — move a whole deployment to another database (e.g.
// from SQLite to PostgreSQL): principals with their password hashes, roles, groups,
// memberships, identities, sessions (and Venafi TPP grants), refresh and access tokens, API keys
// (with their last use), signing keys, applications and the scope catalog, so users stay logged in
// and every issued token and key keeps working.
//
// The target is written in one transaction (all or nothing) and counted again afterwards. A
// target that already holds data is refused unless --force, which replaces its contents.

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { PrincipalWithSecret } from '../../core/model.ts';
import { openStore, redactUrl, sqlitePath } from '../../store/open.ts';
import type { Store } from '../../store/store.ts';
import { CliError, EXIT } from '../errors.ts';
import { printJson, printLine, printTable, progress, type Io } from '../io.ts';

export interface CopyCounts {
  principals: number;
  roles: number;
  groups: number;
  roleAssignments: number;
  groupMemberships: number;
  identities: number;
  sessions: number;
  refreshTokens: number;
  accessTokens: number;
  apiKeys: number;
  signingKeys: number;
  applications: number;
  /** 1 when a scope catalog is stored (0: the default applies). */
  scopeCatalog: number;
}

export interface CopyReport {
  readonly from: string;
  readonly to: string;
  /** True when --force replaced data the target already held. */
  readonly replaced: boolean;
  readonly copied: CopyCounts;
}

export interface CopyOptions {
  /** Replace what the target holds instead of refusing. */
  readonly force?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
}

const PAGE = 500;

function zero(): CopyCounts {
  return {
    principals: 0,
    roles: 0,
    groups: 0,
    roleAssignments: 0,
    groupMemberships: 0,
    identities: 0,
    sessions: 0,
    refreshTokens: 0,
    accessTokens: 0,
    apiKeys: 0,
    signingKeys: 0,
    applications: 0,
    scopeCatalog: 0,
  };
}

async function allPrincipals(store: Store): Promise<PrincipalWithSecret[]> {
  const out: PrincipalWithSecret[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.listPrincipals({ after, limit: PAGE });
    if (page.length === 0) return out;
    out.push(...page);
    after = page[page.length - 1]?.username;
  }
}

/** Everything a store holds, counted the way `copy` reports it. */
export async function countStore(store: Store): Promise<CopyCounts> {
  const counts = zero();
  counts.roles = (await store.listRoles()).length;
  counts.groups = (await store.listGroups()).length;
  counts.signingKeys = (await store.listSigningKeys()).length;
  counts.applications = (await store.listApplications()).length;
  counts.scopeCatalog = (await store.getScopeCatalog()) ? 1 : 0;
  for (const p of await allPrincipals(store)) {
    counts.principals++;
    counts.roleAssignments += p.roles.length;
    counts.groupMemberships += p.groups.length;
    counts.identities += (await store.listIdentities(p.id)).length;
    counts.apiKeys += (await store.listApiKeys(p.id)).length;
    for (const s of await store.listSessions(p.id)) {
      counts.sessions++;
      counts.refreshTokens += (await store.listRefreshTokens(s.id)).length;
      counts.accessTokens += (await store.listAccessTokens(s.id)).length;
    }
  }
  return counts;
}

/** What makes a store "not empty", for the refusal message; null when it is empty. */
async function contents(store: Store): Promise<string | null> {
  const parts: string[] = [];
  const principals = await store.listPrincipals({ limit: 1 });
  if (principals.length) parts.push('principals');
  if ((await store.listRoles()).length) parts.push('roles');
  if ((await store.listGroups()).length) parts.push('groups');
  if ((await store.listSigningKeys()).length) parts.push('signing keys');
  if ((await store.listApplications()).length) parts.push('applications');
  if (await store.getScopeCatalog()) parts.push('a scope catalog');
  return parts.length ? parts.join(', ') : null;
}

/** Removes everything from a store (inside the caller's transaction). */
async function clear(tx: Store): Promise<void> {
  for (const p of await allPrincipals(tx)) await tx.deletePrincipal(p.id); // sessions, tokens, keys, identities go with it
  for (const r of await tx.listRoles()) await tx.deleteRole(r.name);
  for (const g of await tx.listGroups()) await tx.deleteGroup(g.name);
  for (const k of await tx.listSigningKeys()) await tx.deleteSigningKey(k.kid);
  for (const a of await tx.listApplications()) await tx.deleteApplication(a.clientId);
  await tx.putScopeCatalog(null);
}

/** Copies everything from `source` into `target` (both migrated), in one target transaction. */
export async function copyStore(source: Store, target: Store, options: CopyOptions = {}): Promise<{ replaced: boolean; copied: CopyCounts }> {
  const roles = await source.listRoles();
  const groups = await source.listGroups();
  const signingKeys = await source.listSigningKeys();
  const applications = await source.listApplications();
  const catalog = await source.getScopeCatalog();
  const principals = await allPrincipals(source);
  const copied = zero();
  let replaced = false;
  await target.transaction(async (tx) => {
    const existing = await contents(tx);
    if (existing) {
      if (!options.force) {
        throw new CliError(`the target database is not empty (it has ${existing}); pass --force to replace its contents`, EXIT.invalid);
      }
      await clear(tx);
      replaced = true;
    }
    for (const role of roles) await tx.putRole(role);
    copied.roles = roles.length;
    for (const group of groups) await tx.putGroup(group);
    copied.groups = groups.length;
    for (const key of signingKeys) await tx.insertSigningKey(key);
    copied.signingKeys = signingKeys.length;
    for (const application of applications) await tx.putApplication(application); // before the grants issued to them
    copied.applications = applications.length;
    if (catalog) {
      await tx.putScopeCatalog(catalog);
      copied.scopeCatalog = 1;
    }

    let done = 0;
    options.onProgress?.(0, principals.length);
    for (const p of principals) {
      await tx.createPrincipal({
        id: p.id,
        type: p.type,
        username: p.username,
        email: p.email,
        passwordHash: p.passwordHash,
        disabled: p.disabled,
        admin: p.admin,
        ipFilter: p.ipFilter,
        roles: p.roles,
        groups: p.groups,
        createdAt: p.createdAt,
      });
      if (p.updatedAt !== p.createdAt) await tx.updatePrincipal(p.id, { updatedAt: p.updatedAt });
      copied.principals++;
      copied.roleAssignments += p.roles.length;
      copied.groupMemberships += p.groups.length;
      for (const identity of await source.listIdentities(p.id)) {
        await tx.upsertIdentity(identity);
        copied.identities++;
      }
      for (const session of await source.listSessions(p.id)) {
        await tx.createSession(session);
        copied.sessions++;
        for (const token of await source.listRefreshTokens(session.id)) {
          await tx.insertRefreshToken(token);
          copied.refreshTokens++;
        }
        for (const token of await source.listAccessTokens(session.id)) {
          await tx.insertAccessToken(token);
          copied.accessTokens++;
        }
      }
      for (const key of await source.listApiKeys(p.id)) {
        await tx.createApiKey(key);
        copied.apiKeys++;
      }
      options.onProgress?.(++done, principals.length);
    }
  });
  return { replaced, copied };
}

function sameCounts(a: CopyCounts, b: CopyCounts): string[] {
  return (Object.keys(a) as (keyof CopyCounts)[]).filter((k) => a[k] !== b[k]).map((k) => `${k}: copied ${a[k]}, found ${b[k]}`);
}

export function copyCommand(program: Command, io: Io): void {
  program
    .command('copy')
    .description('copy a whole deployment to another database, e.g. from SQLite to PostgreSQL (stop the servers first)')
    .requiredOption('--from <url>', 'source database: sqlite:<path> or postgres://…')
    .requiredOption('--to <url>', 'target database: sqlite:<path> or postgres://…')
    .option('--force', 'replace whatever the target already holds')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { from: string; to: string; force?: boolean; json?: boolean }) => {
      if (opts.from === opts.to) throw new CliError('--from and --to name the same database', EXIT.usage);
      const fromPath = sqlitePath(opts.from);
      if (fromPath !== null && fromPath !== ':memory:' && !existsSync(fromPath)) {
        throw new CliError(`source database ${fromPath} does not exist`, EXIT.notFound);
      }
      const source = await openStore(opts.from, { pollIntervalMs: 0 });
      try {
        const target = await openStore(opts.to, { pollIntervalMs: 0 });
        try {
          await source.migrate();
          await target.migrate();
          const { replaced, copied } = await copyStore(source, target, {
            force: opts.force,
            onProgress: progress(io, 'copying principals'),
          });
          const found = await countStore(target);
          const differences = sameCounts(copied, found);
          if (differences.length) {
            throw new CliError(`the copy does not match what the target now holds:\n  ${differences.join('\n  ')}`, EXIT.failure);
          }
          const report: CopyReport = { from: redactUrl(opts.from), to: redactUrl(opts.to), replaced, copied };
          if (opts.json) printJson(io, report);
          else {
            printTable(
              io,
              ['object', 'copied'],
              Object.entries(copied).map(([k, v]) => [k, String(v)]),
            );
            printLine(io, `copied ${report.from} to ${report.to}${replaced ? ' (its previous contents were replaced)' : ''}`);
          }
        } finally {
          await target.close();
        }
      } finally {
        await source.close();
      }
    });
}
