// Secret formats and digests. Secrets are only ever stored as digests; high-entropy secrets
// (API keys, refresh tokens) are digested with SHA-256, passwords with argon2id (passwords.ts).

import { hash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** API key secret: 36 random bytes as 72 hex characters (32 bytes of entropy plus the public first eight). */
export function newApiKeySecret(): string {
  return randomBytes(36).toString('hex');
}

const HEX72 = /^[0-9a-f]{72}$/i;

/** Digest of an API key secret: sha256 over the secret's bytes, hex. Null when it cannot be a key. */
export function apiKeyDigest(secret: string): string | null {
  if (!HEX72.test(secret)) return null;
  return hash('sha256', Buffer.from(secret, 'hex'), 'hex');
}

/** Opaque refresh token: 32 random bytes, base64url. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

/** Constant-time equality of two strings (false for different lengths without early exit on content). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

export function newId(): string {
  return randomUUID();
}
