// The Venafi TPP scope grammar: `name:r1,r2;name2;name3:r`. A scope without restrictions grants
// the scope's base level; each restriction adds a capability. Normal form: scopes sorted by name,
// restrictions sorted and unique, no `:` when a scope has none.

/** A parsed scope set: scope name -> its restrictions (sorted, unique). */
export type TppScopeSet = ReadonlyMap<string, readonly string[]>;

export type TppParseResult =
  | { readonly ok: true; readonly scopes: TppScopeSet }
  | { readonly ok: false; readonly error: string };

const TOKEN = /^[A-Za-z0-9_.-]+$/;
export const MAX_SCOPE_STRING = 4096;

/** Parses a scope string; tolerates surrounding spaces and one trailing `;`. */
export function parseTppScope(input: string): TppParseResult {
  if (input.length > MAX_SCOPE_STRING) return { ok: false, error: `scope is longer than ${MAX_SCOPE_STRING} characters` };
  let text = input.trim();
  if (text.endsWith(';')) text = text.slice(0, -1);
  if (text.trim() === '') return { ok: false, error: 'scope is empty' };
  const out = new Map<string, Set<string>>();
  const parts = text.split(';');
  for (const [index, raw] of parts.entries()) {
    const part = raw.trim();
    if (part === '') return { ok: false, error: `scope part ${index + 1} is empty (two ';' in a row?)` };
    const colon = part.indexOf(':');
    const name = (colon === -1 ? part : part.slice(0, colon)).trim();
    if (!TOKEN.test(name)) return { ok: false, error: `"${name}" is not a valid scope name` };
    const restrictions = out.get(name) ?? new Set<string>();
    out.set(name, restrictions);
    if (colon === -1) continue;
    const list = part.slice(colon + 1);
    if (list.trim() === '') continue; // `name:` means no restrictions
    for (const r of list.split(',')) {
      const restriction = r.trim();
      if (!TOKEN.test(restriction)) {
        return { ok: false, error: `"${restriction}" is not a valid restriction of scope "${name}"` };
      }
      restrictions.add(restriction);
    }
  }
  return { ok: true, scopes: normalize(out) };
}

/** The normal form of a scope set: names and restrictions sorted and unique. */
export function normalize(scopes: ReadonlyMap<string, Iterable<string>>): TppScopeSet {
  const names = [...scopes.keys()].sort();
  return new Map(names.map((name) => [name, [...new Set(scopes.get(name) ?? [])].sort()]));
}

export function printTppScope(scopes: TppScopeSet): string {
  return [...normalize(scopes)]
    .map(([name, restrictions]) => (restrictions.length ? `${name}:${restrictions.join(',')}` : name))
    .join(';');
}

/** Is every scope of `a`, restriction by restriction, also granted by `b`? */
export function tppWithin(a: TppScopeSet, b: TppScopeSet): boolean {
  for (const [name, restrictions] of a) {
    const other = b.get(name);
    if (other === undefined) return false;
    const held = new Set(other);
    if (!restrictions.every((r) => held.has(r))) return false;
  }
  return true;
}

/** Scopes present on both sides, each with only the restrictions both sides grant. */
export function tppIntersect(a: TppScopeSet, b: TppScopeSet): TppScopeSet {
  const out = new Map<string, string[]>();
  for (const [name, restrictions] of a) {
    const other = b.get(name);
    if (other === undefined) continue;
    const held = new Set(other);
    out.set(
      name,
      restrictions.filter((r) => held.has(r)),
    );
  }
  return normalize(out);
}

/** Everything either side grants (a user's scopes from several roles). */
export function tppUnion(...sets: readonly TppScopeSet[]): TppScopeSet {
  const out = new Map<string, Set<string>>();
  for (const set of sets) {
    for (const [name, restrictions] of set) {
      const acc = out.get(name) ?? new Set<string>();
      for (const r of restrictions) acc.add(r);
      out.set(name, acc);
    }
  }
  return normalize(out);
}

/** The scope names and restrictions of `a` that `b` does not grant, as a scope set. */
export function tppMissing(a: TppScopeSet, b: TppScopeSet): TppScopeSet {
  const out = new Map<string, string[]>();
  for (const [name, restrictions] of a) {
    const other = b.get(name);
    if (other === undefined) {
      out.set(name, [...restrictions]);
      continue;
    }
    const held = new Set(other);
    const lacking = restrictions.filter((r) => !held.has(r));
    if (lacking.length) out.set(name, lacking);
  }
  return normalize(out);
}
