// Venafi TPP scopes as policy: the scope catalog, which role scope entries are TPP scopes, what
// an application may request, and what a grant receives (requested ∩ application ∩ user).

import type { ScopeCatalogEntry } from './model.ts';
import { normalize, parseTppScope, printTppScope, tppIntersect, tppMissing, tppUnion, tppWithin, type TppScopeSet } from './tpp-scope.ts';

/** The TPP catalog (reference/venafi.md), in the order TPP lists it. */
export const DEFAULT_SCOPE_CATALOG: readonly ScopeCatalogEntry[] = [
  { scope: 'admin', restrictions: ['delete', 'grantrights', 'recyclebin', 'viewlogs'] },
  { scope: 'configuration', restrictions: ['delete', 'manage'] },
  { scope: 'security', restrictions: ['delete', 'manage'] },
  { scope: 'restricted', restrictions: ['delete', 'manage'] },
  { scope: 'statistics', restrictions: ['manage', 'sensitive'] },
  { scope: 'codesignclient', restrictions: [] },
  { scope: 'codesign', restrictions: ['admin', 'approve', 'delete', 'manage'] },
  { scope: 'certificate', restrictions: ['approve', 'delete', 'discover', 'manage', 'revoke'] },
  { scope: 'ssh', restrictions: ['approve', 'delete', 'discover', 'manage'] },
  { scope: 'agent', restrictions: ['delete'] },
  { scope: 'codesigning', restrictions: ['csp'] },
];

/** Application defaults (TPP's): access tokens live 90 days, grants a year, refresh allowed. */
export const DEFAULT_ACCESS_TOKEN_TTL = 90 * 86400;
export const DEFAULT_GRANT_TTL = 365 * 86400;

/** The scope TPP requires for administrative calls such as getscopes. */
export const ADMIN_SCOPE = 'admin';

/** Everything the catalog knows, as one scope set. */
export function catalogScopeSet(catalog: readonly ScopeCatalogEntry[]): TppScopeSet {
  return normalize(new Map(catalog.map((e) => [e.scope, e.restrictions])));
}

/** Problems of a catalog: duplicate scopes or restrictions (an empty list when it is fine). */
export function catalogProblems(catalog: readonly ScopeCatalogEntry[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  catalog.forEach((entry, i) => {
    if (seen.has(entry.scope)) problems.push(`[${i}].scope: "${entry.scope}" appears more than once`);
    seen.add(entry.scope);
    const restrictions = new Set<string>();
    entry.restrictions.forEach((r, j) => {
      if (restrictions.has(r)) problems.push(`[${i}].restrictions[${j}]: "${r}" appears more than once`);
      restrictions.add(r);
    });
  });
  return problems;
}

/**
 * The TPP scope a role's scope entry grants, or null when the entry is not a TPP scope: it must
 * parse with the TPP grammar and name only catalog scopes and their restrictions. So `admin`
 * and `certificate:manage,revoke` are TPP scopes, `admin:apikeys` and `read:status` are not.
 */
export function tppScopeOfEntry(entry: string, catalog: TppScopeSet): TppScopeSet | null {
  const parsed = parseTppScope(entry);
  if (!parsed.ok || parsed.scopes.size === 0) return null;
  return tppWithin(parsed.scopes, catalog) ? parsed.scopes : null;
}

/** A user's TPP scopes: the union of the TPP scopes among their effective scope entries. */
export function userTppScopes(scopeEntries: readonly string[], catalog: TppScopeSet): TppScopeSet {
  const sets: TppScopeSet[] = [];
  for (const entry of scopeEntries) {
    const set = tppScopeOfEntry(entry, catalog);
    if (set) sets.push(set);
  }
  return tppUnion(...sets);
}

export type ScopeCheck = { readonly ok: true; readonly scopes: TppScopeSet } | { readonly ok: false; readonly error: string };

/** An application's allowed scopes: they must parse and lie within the catalog. */
export function checkApplicationScopes(text: string, catalog: TppScopeSet): ScopeCheck {
  const parsed = parseTppScope(text);
  if (!parsed.ok) return parsed;
  const unknown = tppMissing(parsed.scopes, catalog);
  if (unknown.size > 0) return { ok: false, error: `not in the scope catalog: ${printTppScope(unknown)}` };
  return parsed;
}

/**
 * A requested scope, checked against the application: it must parse and lie within what the
 * application may request.
 */
export function checkRequestedScope(requested: string, application: TppScopeSet): ScopeCheck {
  const parsed = parseTppScope(requested);
  if (!parsed.ok) return parsed;
  const beyond = tppMissing(parsed.scopes, application);
  if (beyond.size > 0) return { ok: false, error: `the application may not request ${printTppScope(beyond)}` };
  return parsed;
}

/**
 * The scope a grant confers: what was asked for (or granted before) that the application may
 * request and the user holds. Empty when the user holds none of it.
 */
export function grantTppScope(asked: TppScopeSet, application: TppScopeSet, user: TppScopeSet): TppScopeSet {
  return tppIntersect(tppIntersect(asked, application), user);
}

/** A stored (normalized) scope string as a set; a string that does not parse grants nothing. */
export function storedTppScope(text: string): TppScopeSet {
  const parsed = parseTppScope(text);
  return parsed.ok ? parsed.scopes : new Map();
}
