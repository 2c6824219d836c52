// JWT access tokens: EdDSA (Ed25519), `kid` in the header, JWKS for verifiers. jose verifies;
// signing is node:crypto's one-shot Ed25519 on a compact JWS built here (jose signs through
// WebCrypto's asynchronous job queue, which cost twice the CPU per token: 59-75 against
// 28-36 µs measured on the same machine, on every login and refresh).
// Rotation: a new key takes over signing; retired keys keep verifying until every token they
// signed has expired, then drop out of the ring.

import { createPrivateKey, sign as signEd25519, type KeyObject } from 'node:crypto';
import { errors, exportJWK, generateKeyPair, importJWK, jwtVerify, type JWTPayload } from 'jose';
import { InvalidTokenError, TokenExpiredError } from '../core/errors.ts';
import type { SigningKey } from '../core/model.ts';
import { newId } from './secrets.ts';

export const JWT_ALG = 'EdDSA';

export async function generateSigningKey(now: number): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(JWT_ALG, { crv: 'Ed25519', extractable: true });
  const kid = newId();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: JWT_ALG, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: JWT_ALG };
  return { kid, alg: JWT_ALG, publicJwk, privateJwk, createdAt: now, retiredAt: null };
}

type KeyLike = Awaited<ReturnType<typeof importJWK>>;

interface LoadedKey {
  readonly record: SigningKey;
  readonly publicKey: KeyLike;
  readonly privateKey: KeyObject | null;
  /** The encoded protected header of the tokens this key signs. */
  readonly header: string;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export interface AccessClaims extends JWTPayload {
  sub: string;
  sid?: string;
  type: string;
}

/** JWK members that hold private key material (never published). */
const PRIVATE_JWK_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']);

export class KeyRing {
  readonly #keys: Map<string, LoadedKey>;
  readonly #signer: LoadedKey | null;
  readonly #issuer: string;
  readonly #maxTokenTtlMs: number;

  private constructor(keys: Map<string, LoadedKey>, signer: LoadedKey | null, issuer: string, maxTokenTtlMs: number) {
    this.#keys = keys;
    this.#signer = signer;
    this.#issuer = issuer;
    this.#maxTokenTtlMs = maxTokenTtlMs;
  }

  /**
   * Loads the keys that may still verify at `now`: the signing key plus retired keys whose
   * retirement is younger than `maxTokenTtlMs`.
   */
  static async load(records: readonly SigningKey[], now: number, maxTokenTtlMs: number, issuer: string): Promise<KeyRing> {
    const keys = new Map<string, LoadedKey>();
    let signer: LoadedKey | null = null;
    for (const record of records) {
      const verifying = record.retiredAt === null || record.retiredAt + maxTokenTtlMs > now;
      if (!verifying) continue;
      const loaded: LoadedKey = {
        record,
        publicKey: await importJWK(record.publicJwk, JWT_ALG),
        privateKey: record.retiredAt === null ? createPrivateKey({ key: record.privateJwk, format: 'jwk' }) : null,
        header: base64url(JSON.stringify({ alg: JWT_ALG, kid: record.kid, typ: 'JWT' })),
      };
      keys.set(record.kid, loaded);
      if (loaded.privateKey && (!signer || record.createdAt > signer.record.createdAt)) signer = loaded;
    }
    return new KeyRing(keys, signer, issuer, maxTokenTtlMs);
  }

  /** Whether a key may verify at `now`: it signs, or it retired less than the longest token lifetime ago. */
  #verifies(record: SigningKey, now: number): boolean {
    return record.retiredAt === null || record.retiredAt + this.#maxTokenTtlMs > now;
  }

  /**
   * When the next retired key in this ring stops verifying (so the ring should be reloaded to drop
   * it from the JWKS); null when no retired key is loaded.
   */
  get staleAt(): number | null {
    let at: number | null = null;
    for (const { record } of this.#keys.values()) {
      if (record.retiredAt === null) continue;
      const until = record.retiredAt + this.#maxTokenTtlMs;
      if (at === null || until < at) at = until;
    }
    return at;
  }

  get signingKid(): string | null {
    return this.#signer?.record.kid ?? null;
  }

  get signingKeyCreatedAt(): number | null {
    return this.#signer?.record.createdAt ?? null;
  }

  hasKid(kid: string): boolean {
    return this.#keys.has(kid);
  }

  async sign(claims: Record<string, unknown>, subject: string, nowMs: number, ttlSeconds: number): Promise<string> {
    const signer = this.#signer;
    if (!signer?.privateKey) throw new Error('no signing key available');
    const iat = Math.floor(nowMs / 1000);
    // the registered claims come last, so a claim of the same name in `claims` never wins
    const payload = { ...claims, sub: subject, iss: this.#issuer, iat, exp: iat + ttlSeconds, jti: newId() };
    const input = `${signer.header}.${base64url(JSON.stringify(payload))}`;
    return `${input}.${signEd25519(null, Buffer.from(input), signer.privateKey).toString('base64url')}`;
  }

  /** Verifies signature, issuer, expiry and the `type` claim; throws TokenExpiredError / InvalidTokenError. */
  async verify(token: string, nowMs: number, type: string): Promise<AccessClaims> {
    try {
      const { payload } = await jwtVerify(
        token,
        (header) => {
          const key = header.kid ? this.#keys.get(header.kid) : undefined;
          if (!key) throw new InvalidTokenError('unknown signing key');
          if (!this.#verifies(key.record, nowMs)) throw new InvalidTokenError('signing key has been retired');
          return key.publicKey;
        },
        {
          algorithms: [JWT_ALG],
          issuer: this.#issuer,
          currentDate: new Date(nowMs),
          clockTolerance: 0,
          requiredClaims: ['exp', 'iat', 'sub'],
        },
      );
      if (payload.type !== type || typeof payload.sub !== 'string') throw new InvalidTokenError('wrong token type');
      return payload as AccessClaims;
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new TokenExpiredError();
      if (error instanceof InvalidTokenError) throw error;
      throw new InvalidTokenError();
    }
  }

  /** Public keys for `/.well-known/jwks.json`: the keys that verify (at `nowMs`, if given), public members only. */
  jwks(nowMs?: number): { keys: Record<string, unknown>[] } {
    return {
      keys: [...this.#keys.values()]
        .filter((k) => nowMs === undefined || this.#verifies(k.record, nowMs))
        .map((k) => Object.fromEntries(Object.entries(k.record.publicJwk).filter(([name]) => !PRIVATE_JWK_MEMBERS.has(name)))),
    };
  }
}

/** The `kid` of a compact JWS without verifying it (used to notice keys made by another node). */
export function peekKid(token: string): string | null {
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as unknown;
    if (header && typeof header === 'object' && 'kid' in header && typeof header.kid === 'string') return header.kid;
  } catch {
    return null;
  }
  return null;
}
