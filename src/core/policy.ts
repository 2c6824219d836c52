// Pure policy decisions: which roles and scopes a principal has, what an API key may do,
// and whether a request with those scopes is allowed, with the reasons why.

import { BUILTIN_ROLES, INHERIT } from './builtin.ts';
import type { Policy, Role } from './model.ts';

/** Builds the policy in force: built-in roles overridden by stored ones, plus groups. */
export function buildPolicy(
  storedRoles: readonly Role[],
  groups: readonly { name: string; roles: readonly string[] }[],
): Policy {
  const roles = new Map<string, readonly string[]>(BUILTIN_ROLES);
  for (const role of storedRoles) roles.set(role.name, uniqueSorted(role.scopes));
  return { roles, groups: new Map(groups.map((g) => [g.name, [...g.roles]])) };
}

/** Where one effective scope came from. */
export interface Grant {
  readonly scope: string;
  readonly role: string;
  readonly viaGroup: string | null;
}

export interface Resolution {
  /** Effective roles (direct and through groups) that exist in the policy, sorted. */
  readonly roles: readonly string[];
  /** Union of those roles' scopes, sorted. */
  readonly scopes: readonly string[];
  readonly grants: readonly Grant[];
}

export interface PrincipalFacts {
  readonly roles: readonly string[];
  readonly groups: readonly string[];
  readonly disabled?: boolean;
}

export function resolve(policy: Policy, facts: PrincipalFacts): Resolution {
  if (facts.disabled) return { roles: [], scopes: [], grants: [] };
  const sources: { role: string; viaGroup: string | null }[] = [];
  for (const role of facts.roles) sources.push({ role, viaGroup: null });
  for (const group of facts.groups) {
    for (const role of policy.groups.get(group) ?? []) sources.push({ role, viaGroup: group });
  }
  const roles = new Set<string>();
  const scopes = new Set<string>();
  const grants: Grant[] = [];
  for (const { role, viaGroup } of sources) {
    const roleScopes = policy.roles.get(role);
    if (roleScopes === undefined) continue;
    roles.add(role);
    for (const scope of roleScopes) {
      scopes.add(scope);
      grants.push({ scope, role, viaGroup });
    }
  }
  return { roles: [...roles].sort(), scopes: [...scopes].sort(), grants };
}

/** Scopes an API key confers now: its stored scopes within the owner's current ones. */
export function apiKeyEffectiveScopes(keyScopes: readonly string[], ownerScopes: readonly string[]): string[] {
  if (keyScopes.includes(INHERIT)) return uniqueSorted(ownerScopes);
  const owner = new Set(ownerScopes);
  return uniqueSorted(keyScopes.filter((s) => owner.has(s)));
}

export type KeyScopeResult =
  | { readonly ok: true; readonly scopes: readonly string[] }
  | { readonly ok: false; readonly requested: readonly string[]; readonly allowed: readonly string[] };

/**
 * Which scopes a new API key is stored with.
 * @param requested scopes asked for (null: the default, `inherit`)
 * @param allowed the creator's current effective scopes
 * @param sourceKeyScopes stored scopes of the API key the request authenticated with, if any
 */
export function newApiKeyScopes(
  requested: readonly string[] | null,
  allowed: readonly string[],
  sourceKeyScopes: readonly string[] | null,
): KeyScopeResult {
  const sourceInherits = sourceKeyScopes === null || sourceKeyScopes.includes(INHERIT);
  const ceiling = sourceInherits ? allowed : sourceKeyScopes;
  let scopes: readonly string[];
  if (requested === null || requested.includes(INHERIT)) {
    scopes = sourceInherits ? [INHERIT] : sourceKeyScopes;
  } else {
    scopes = requested;
  }
  const permitted = new Set([...ceiling, INHERIT]);
  if (!scopes.every((s) => permitted.has(s))) {
    return { ok: false, requested: uniqueSorted(scopes), allowed: uniqueSorted(ceiling) };
  }
  return { ok: true, scopes: [...scopes] }; // stored as asked, in the caller's order
}

export interface Decision {
  readonly allowed: boolean;
  readonly missing: readonly string[];
  readonly reasons: readonly string[];
}

const NOTHING_REQUIRED: Decision = Object.freeze({ allowed: true, missing: Object.freeze([]), reasons: Object.freeze([]) });

/** Is a caller holding `had` allowed to do something that requires `required`? */
export function decide(required: readonly string[], had: readonly string[], grants: readonly Grant[] = []): Decision {
  if (required.length === 0) return NOTHING_REQUIRED; // every request of a route that needs no scope
  const held = new Set(had);
  const missing = required.filter((s) => !held.has(s));
  const reasons: string[] = [];
  for (const scope of required) {
    if (!held.has(scope)) {
      reasons.push(`missing scope ${scope}`);
      continue;
    }
    const from = grants.filter((g) => g.scope === scope);
    reasons.push(
      from.length === 0
        ? `scope ${scope} held`
        : `scope ${scope} granted by ${from.map((g) => (g.viaGroup ? `role ${g.role} (group ${g.viaGroup})` : `role ${g.role}`)).join(', ')}`,
    );
  }
  return { allowed: missing.length === 0, missing, reasons };
}

export function uniqueSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}
