// Administration of applications (Venafi API integrations) and the TPP scope catalog: the
// operations behind `gatehouse app …`, and the checks the bundle shares.

import { ConflictError, NotFoundError, ValidationError } from '../core/errors.ts';
import type { Application, ScopeCatalogEntry } from '../core/model.ts';
import {
  catalogScopeSet,
  checkApplicationScopes,
  DEFAULT_ACCESS_TOKEN_TTL,
  DEFAULT_GRANT_TTL,
  DEFAULT_SCOPE_CATALOG,
} from '../core/tpp.ts';
import { printTppScope, type TppScopeSet } from '../core/tpp-scope.ts';
import type { Store } from '../store/store.ts';
import { ApplicationSchema, type BundleApplication } from './bundle-schema.ts';
import { schemaValue } from './schema-check.ts';

export type ApplicationResult = { readonly ok: true; readonly application: Application } | { readonly ok: false; readonly error: string };

/** An application as stored: scopes checked against the catalog and normalized, defaults filled in. */
export function applicationFrom(input: BundleApplication, catalog: TppScopeSet): ApplicationResult {
  const scopes = checkApplicationScopes(input.scopes, catalog);
  if (!scopes.ok) return { ok: false, error: `scopes: ${scopes.error}` };
  return {
    ok: true,
    application: {
      clientId: input.clientId,
      name: input.name ?? null,
      scopes: printTppScope(scopes.scopes),
      accessTokenTtl: input.accessTokenTtl ?? DEFAULT_ACCESS_TOKEN_TTL,
      grantTtl: input.grantTtl ?? DEFAULT_GRANT_TTL,
      allowRefresh: input.allowRefresh ?? true,
    },
  };
}

export class ApplicationService {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** The scope catalog in force (the stored one, else TPP's default). */
  async catalog(): Promise<readonly ScopeCatalogEntry[]> {
    return (await this.#store.getScopeCatalog()) ?? DEFAULT_SCOPE_CATALOG;
  }

  async add(input: BundleApplication): Promise<Application> {
    if (!schemaValue().Check(ApplicationSchema, input)) {
      const first = [...schemaValue().Errors(ApplicationSchema, input)][0];
      throw new ValidationError(`${first?.instancePath.slice(1) || 'application'}: ${first?.message ?? 'invalid'}`);
    }
    const result = applicationFrom(input, catalogScopeSet(await this.catalog()));
    if (!result.ok) throw new ValidationError(result.error, 'scopes');
    if (await this.#store.getApplication(input.clientId)) throw new ConflictError(`application "${input.clientId}" already exists`);
    await this.#store.putApplication(result.application);
    return result.application;
  }

  async list(): Promise<Application[]> {
    return this.#store.listApplications();
  }

  /** Removes the application and every grant issued to it. */
  async remove(clientId: string): Promise<void> {
    if (!(await this.#store.deleteApplication(clientId))) throw new NotFoundError('application', clientId);
  }
}
