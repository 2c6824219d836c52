// The declarative policy bundle: parse, validate (shape and references), and apply as one
// transaction: roles, groups, users, applications and the TPP scope catalog. Applying the same bundle twice changes nothing; objects absent from the bundle
// are left alone unless `prune` is set.

import { parse as parseYaml, stringify as stringifyYaml, YAMLParseError } from 'yaml';
import { isArgon2idPhc, type PasswordHasher } from '../auth/passwords.ts';
import { newId } from '../auth/secrets.ts';
import { BUILTIN_ROLES } from '../core/builtin.ts';
import { ValidationError } from '../core/errors.ts';
import type { Application, Group, PrincipalWithSecret, Role, ScopeCatalogEntry } from '../core/model.ts';
import { uniqueSorted } from '../core/policy.ts';
import { catalogProblems, catalogScopeSet, DEFAULT_SCOPE_CATALOG } from '../core/tpp.ts';
import type { Clock } from '../core/time.ts';
import type { Store } from '../store/store.ts';
import { applicationFrom } from './applications.ts';
import { BundleSchema, VALIDATED_ONLY_SECTIONS, type Bundle, type BundleGroup, type BundleUser } from './bundle-schema.ts';
import { schemaValue } from './schema-check.ts';

export interface Counts {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
}

export interface ApplyReport {
  readonly roles: Counts;
  readonly groups: Counts;
  readonly users: Counts;
  readonly applications: Counts;
  /** The catalog counts as one object: created, updated, unchanged, or deleted (back to the default). */
  readonly scopeCatalog: Counts;
  /** Sections present in the bundle that this version validates but does not act on yet. */
  readonly notApplied: readonly string[];
  readonly dryRun: boolean;
}

export interface ApplyOptions {
  readonly prune?: boolean;
  readonly dryRun?: boolean;
  /** Called as users' passwords are checked/hashed (the slow part), for progress display. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Parses JSON or YAML text; errors name the source and the line. */
export function parseBundleText(text: string, source = 'bundle'): unknown {
  try {
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true, maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const where = error.linePos?.[0] ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
      const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      throw new ValidationError(`${source}: cannot parse${where}: ${reason}`);
    }
    throw new ValidationError(`${source}: cannot parse: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Checks the bundle's shape; the error lists every problem with its path. */
export function validateBundleShape(value: unknown, source = 'bundle'): Bundle {
  if (value === null || value === undefined) return {};
  if (!schemaValue().Check(BundleSchema, value)) {
    const problems = [...schemaValue().Errors(BundleSchema, value)]
      .filter((e) => e.keyword !== 'boolean')
      .slice(0, 20)
      .map((e) => {
        const path = jsonPointerToPath(e.instancePath) || '(top level)';
        const extra =
          e.keyword === 'additionalProperties' && 'additionalProperties' in e.params
            ? `: unknown key(s) ${e.params.additionalProperties.map((k) => `"${k}"`).join(', ')}`
            : ` ${e.message}`;
        return `${path}${extra}`;
      });
    throw new ValidationError(`${source} is not valid:\n  - ${problems.join('\n  - ')}`);
  }
  return value;
}

function jsonPointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('')
    .replace(/^\./, '');
}

function duplicates(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return [...dup];
}

function groupAttributes(g: BundleGroup): Record<string, unknown> {
  const { name: _name, roles: _roles, ...attributes } = g;
  return attributes;
}

/** JSON with object keys sorted at every level: equal data, equal text, whatever the key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * Whether two values hold the same data. Key order does not count: a bundle may list keys in
 * any order, and a store may give them back in its own (PostgreSQL's jsonb sorts them).
 */
function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export class BundleService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #passwords: PasswordHasher;

  constructor(store: Store, clock: Clock, passwords: PasswordHasher) {
    this.#store = store;
    this.#clock = clock;
    this.#passwords = passwords;
  }

  async applyText(text: string, source: string, options: ApplyOptions = {}): Promise<ApplyReport> {
    return this.apply(validateBundleShape(parseBundleText(text, source), source), options);
  }

  async apply(bundle: Bundle, options: ApplyOptions = {}): Promise<ApplyReport> {
    const roles = bundle.roles ?? [];
    const groups = bundle.groups ?? [];
    const users = bundle.users ?? [];
    const problems: string[] = [];
    for (const [section, names] of [
      ['roles', roles.map((r) => r.name)],
      ['groups', groups.map((g) => g.name)],
      ['users', users.map((u) => u.username)],
      ['applications', (bundle.applications ?? []).map((a) => a.clientId)],
    ] as const) {
      for (const d of duplicates(names)) problems.push(`${section}: "${d}" appears more than once`);
    }

    const storedRoles = await this.#store.listRoles();
    const storedGroups = await this.#store.listGroups();
    const knownRoles = new Set([...BUILTIN_ROLES.keys(), ...roles.map((r) => r.name)]);
    const knownGroups = new Set(groups.map((g) => g.name));
    if (!options.prune) {
      for (const r of storedRoles) knownRoles.add(r.name);
      for (const g of storedGroups) knownGroups.add(g.name);
    }
    groups.forEach((g, i) =>
      (g.roles ?? []).forEach((r, j) => {
        if (!knownRoles.has(r)) problems.push(`groups[${i}].roles[${j}]: unknown role "${r}"`);
      }),
    );
    users.forEach((u, i) => {
      (u.roles ?? []).forEach((r, j) => {
        if (!knownRoles.has(r)) problems.push(`users[${i}].roles[${j}]: unknown role "${r}"`);
      });
      (u.groups ?? []).forEach((g, j) => {
        if (!knownGroups.has(g)) problems.push(`users[${i}].groups[${j}]: unknown group "${g}"`);
      });
      if (u.password?.startsWith('$') && !isArgon2idPhc(u.password)) {
        problems.push(`users[${i}].password: looks like a hash but is not an argon2id PHC string`);
      }
    });

    // The catalog in force once this bundle is applied decides which application scopes exist.
    const storedCatalog = await this.#store.getScopeCatalog();
    const catalog: readonly ScopeCatalogEntry[] | undefined = bundle.scopeCatalog?.map((e) => ({ scope: e.scope, restrictions: [...e.restrictions] }));
    for (const p of catalogProblems(catalog ?? [])) problems.push(`scopeCatalog${p}`);
    const catalogInForce = catalogScopeSet(catalog ?? (options.prune ? null : storedCatalog) ?? DEFAULT_SCOPE_CATALOG);
    const applications: Application[] = [];
    (bundle.applications ?? []).forEach((a, i) => {
      const result = applicationFrom(a, catalogInForce);
      if (result.ok) applications.push(result.application);
      else problems.push(`applications[${i}].${result.error}`);
    });
    if (problems.length) throw new ValidationError(`bundle is not valid:\n  - ${problems.join('\n  - ')}`);
    const storedApplications = await this.#store.listApplications();

    const existingUsers = new Map<string, PrincipalWithSecret>();
    for (const u of users) {
      const found = await this.#store.getPrincipalByUsername(u.username);
      if (found) {
        existingUsers.set(u.username, found);
        if (u.type && u.type !== found.type) {
          throw new ValidationError(`users: "${u.username}" exists as a ${found.type}; its type cannot change to ${u.type}`);
        }
      }
    }
    const passwordHashes = await this.#resolvePasswords(users, existingUsers, options.onProgress);

    const report: ApplyReport = {
      roles: { created: 0, updated: 0, unchanged: 0, deleted: 0 },
      groups: { created: 0, updated: 0, unchanged: 0, deleted: 0 },
      users: { created: 0, updated: 0, unchanged: 0, deleted: 0 },
      applications: { created: 0, updated: 0, unchanged: 0, deleted: 0 },
      scopeCatalog: { created: 0, updated: 0, unchanged: 0, deleted: 0 },
      notApplied: VALIDATED_ONLY_SECTIONS.filter((s) => bundle[s] !== undefined),
      dryRun: options.dryRun ?? false,
    };
    const now = this.#clock.now();

    const work = async (tx: Store) => {
      const storedRoleMap = new Map(storedRoles.map((r) => [r.name, r]));
      for (const r of roles) {
        const role: Role = { name: r.name, scopes: uniqueSorted(r.scopes), description: r.description ?? null };
        const current = storedRoleMap.get(r.name);
        if (current && sameJson(current, role)) report.roles.unchanged++;
        else {
          report.roles[current ? 'updated' : 'created']++;
          if (!options.dryRun) await tx.putRole(role);
        }
      }
      const storedGroupMap = new Map(storedGroups.map((g) => [g.name, g]));
      for (const g of groups) {
        const group: Group = { name: g.name, roles: uniqueSorted(g.roles ?? []), attributes: groupAttributes(g) };
        const current = storedGroupMap.get(g.name);
        if (current && sameJson(current, group)) report.groups.unchanged++;
        else {
          report.groups[current ? 'updated' : 'created']++;
          if (!options.dryRun) await tx.putGroup(group);
        }
      }
      if (catalog !== undefined) {
        if (storedCatalog && sameJson(storedCatalog, catalog)) report.scopeCatalog.unchanged++;
        else {
          report.scopeCatalog[storedCatalog ? 'updated' : 'created']++;
          if (!options.dryRun) await tx.putScopeCatalog(catalog);
        }
      } else if (options.prune && storedCatalog) {
        report.scopeCatalog.deleted++;
        if (!options.dryRun) await tx.putScopeCatalog(null);
      }
      const storedApplicationMap = new Map(storedApplications.map((a) => [a.clientId, a]));
      for (const application of applications) {
        const current = storedApplicationMap.get(application.clientId);
        if (current && sameJson(current, application)) report.applications.unchanged++;
        else {
          report.applications[current ? 'updated' : 'created']++;
          if (!options.dryRun) await tx.putApplication(application);
        }
      }
      for (const u of users) {
        const current = existingUsers.get(u.username);
        const desired = {
          email: u.email ?? null,
          passwordHash: passwordHashes.get(u.username) ?? current?.passwordHash ?? null,
          disabled: u.disabled ?? false,
          admin: u.admin ?? false,
          ipFilter: u.ipFilter ?? null,
          roles: uniqueSorted(u.roles ?? []),
          groups: uniqueSorted(u.groups ?? []),
        };
        if (!current) {
          report.users.created++;
          if (!options.dryRun) {
            await tx.createPrincipal({ id: newId(), type: u.type ?? 'user', username: u.username, createdAt: now, ...desired });
          }
          continue;
        }
        const same =
          current.email === desired.email &&
          current.passwordHash === desired.passwordHash &&
          current.disabled === desired.disabled &&
          current.admin === desired.admin &&
          current.ipFilter === desired.ipFilter &&
          sameJson(uniqueSorted(current.roles), desired.roles) &&
          sameJson(uniqueSorted(current.groups), desired.groups);
        if (same) report.users.unchanged++;
        else {
          report.users.updated++;
          if (!options.dryRun) {
            await tx.updatePrincipal(current.id, { ...desired, updatedAt: now });
            if (desired.disabled && !current.disabled) await tx.revokeAllSessions(current.id, now);
          }
        }
      }
      if (options.prune) {
        const keepRoles = new Set(roles.map((r) => r.name));
        for (const r of storedRoles) {
          if (keepRoles.has(r.name)) continue;
          report.roles.deleted++;
          if (!options.dryRun) await tx.deleteRole(r.name);
        }
        const keepGroups = new Set(groups.map((g) => g.name));
        for (const g of storedGroups) {
          if (keepGroups.has(g.name)) continue;
          report.groups.deleted++;
          if (!options.dryRun) await tx.deleteGroup(g.name);
        }
        const keepApplications = new Set(applications.map((a) => a.clientId));
        for (const a of storedApplications) {
          if (keepApplications.has(a.clientId)) continue;
          report.applications.deleted++;
          if (!options.dryRun) await tx.deleteApplication(a.clientId); // with the grants issued to it
        }
        const keepUsers = new Set(users.map((u) => u.username));
        let after: string | undefined;
        for (;;) {
          const page = await tx.listPrincipals({ after, limit: 1000 });
          if (page.length === 0) break;
          for (const p of page) {
            if (keepUsers.has(p.username)) continue;
            report.users.deleted++;
            if (!options.dryRun) await tx.deletePrincipal(p.id);
          }
          after = page[page.length - 1]?.username;
        }
      }
    };
    await this.#store.transaction(work);
    return report;
  }

  /** New password hashes for bundle users whose stored hash does not already match. */
  async #resolvePasswords(
    users: readonly BundleUser[],
    existing: ReadonlyMap<string, PrincipalWithSecret>,
    onProgress?: (done: number, total: number) => void,
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const withPasswords = users.filter((u) => u.password !== undefined);
    let done = 0;
    const tick = () => onProgress?.(++done, withPasswords.length);
    const queue = [...withPasswords];
    const worker = async () => {
      for (let u = queue.shift(); u; u = queue.shift()) {
        const password = u.password as string;
        const stored = existing.get(u.username)?.passwordHash ?? null;
        if (isArgon2idPhc(password)) out.set(u.username, password);
        else if (stored && (await this.#passwords.verify(stored, password))) out.set(u.username, stored);
        else out.set(u.username, await this.#passwords.hash(password));
        tick();
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    return out;
  }

  /** The store's policy as a bundle (passwords as argon2id PHC strings), sorted by name. */
  async export(): Promise<Bundle> {
    const roles = await this.#store.listRoles();
    const groups = await this.#store.listGroups();
    const users: BundleUser[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.#store.listPrincipals({ after, limit: 1000 });
      if (page.length === 0) break;
      for (const p of page) {
        users.push({
          username: p.username,
          ...(p.type === 'service' ? { type: 'service' as const } : {}),
          ...(p.passwordHash ? { password: p.passwordHash } : {}),
          ...(p.email ? { email: p.email } : {}),
          roles: [...p.roles],
          groups: [...p.groups],
          ...(p.ipFilter ? { ipFilter: p.ipFilter } : {}),
          ...(p.admin ? { admin: true } : {}),
          ...(p.disabled ? { disabled: true } : {}),
        });
      }
      after = page[page.length - 1]?.username;
    }
    const applications = await this.#store.listApplications();
    const catalog = await this.#store.getScopeCatalog();
    return {
      roles: roles.map((r) => ({ name: r.name, scopes: [...r.scopes], ...(r.description ? { description: r.description } : {}) })),
      groups: groups.map((g) => ({ name: g.name, roles: [...g.roles], ...(g.attributes as Omit<BundleGroup, 'name' | 'roles'>) })),
      users,
      ...(applications.length
        ? {
            applications: applications.map((a) => ({
              clientId: a.clientId,
              scopes: a.scopes,
              ...(a.name !== null ? { name: a.name } : {}),
              accessTokenTtl: a.accessTokenTtl,
              grantTtl: a.grantTtl,
              allowRefresh: a.allowRefresh,
            })),
          }
        : {}),
      ...(catalog ? { scopeCatalog: catalog.map((e) => ({ scope: e.scope, restrictions: [...e.restrictions] })) } : {}),
    };
  }
}

export function bundleToYaml(bundle: Bundle): string {
  return stringifyYaml(bundle, { lineWidth: 0 });
}
