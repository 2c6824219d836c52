// What a request proved about its caller, as the services see it.

import type { Grant } from '../core/policy.ts';
import type { ApiKey, PrincipalWithSecret } from '../core/model.ts';

/** A credential as presented on the wire, already separated from its transport. */
export type Credential =
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'apikey'; readonly secret: string }
  | { readonly kind: 'none' };

export interface AuthContext {
  readonly method: 'token' | 'apikey' | 'anonymous';
  /** Null for the anonymous caller. */
  readonly principal: PrincipalWithSecret | null;
  readonly roles: readonly string[];
  /** Effective scopes of this request (for an API key: the key's, within the owner's). */
  readonly scopes: readonly string[];
  readonly grants: readonly Grant[];
  readonly apiKey: ApiKey | null;
  readonly sessionId: string | null;
}
