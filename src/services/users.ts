// Administration of principals: the operations behind `gatehouse user …`.

import type { PasswordHasher } from '../auth/passwords.ts';
import { isArgon2idPhc } from '../auth/passwords.ts';
import { newId } from '../auth/secrets.ts';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.ts';
import type { PrincipalType, PrincipalWithSecret } from '../core/model.ts';
import type { Clock } from '../core/time.ts';
import type { ListOptions, Store } from '../store/store.ts';
import { UserSchema } from './bundle-schema.ts';
import type { PolicyCache } from './policy-cache.ts';
import { schemaValue } from './schema-check.ts';

export interface NewUser {
  readonly username: string;
  readonly password?: string | null;
  readonly email?: string | null;
  readonly roles?: readonly string[];
  readonly groups?: readonly string[];
  readonly type?: PrincipalType;
  readonly admin?: boolean;
}

export class UserService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #passwords: PasswordHasher;
  readonly #policy: PolicyCache;

  constructor(store: Store, clock: Clock, passwords: PasswordHasher, policy: PolicyCache) {
    this.#store = store;
    this.#clock = clock;
    this.#passwords = passwords;
    this.#policy = policy;
  }

  async add(user: NewUser): Promise<PrincipalWithSecret> {
    const candidate = {
      username: user.username,
      ...(user.email ? { email: user.email } : {}),
      ...(user.roles ? { roles: [...user.roles] } : {}),
      ...(user.groups ? { groups: [...user.groups] } : {}),
    };
    if (!schemaValue().Check(UserSchema, candidate)) {
      const first = [...schemaValue().Errors(UserSchema, candidate)][0];
      throw new ValidationError(`${first?.instancePath.slice(1) || 'user'}: ${first?.message ?? 'invalid'}`);
    }
    await this.#checkRoles(user.roles ?? []);
    await this.#checkGroups(user.groups ?? []);
    if (await this.#store.getPrincipalByUsername(user.username)) {
      throw new ConflictError(`user "${user.username}" already exists`);
    }
    const passwordHash = user.password ? await this.#hash(user.password) : null;
    return this.#store.createPrincipal({
      id: newId(),
      type: user.type ?? 'user',
      username: user.username,
      email: user.email ?? null,
      passwordHash,
      admin: user.admin ?? false,
      roles: user.roles ?? [],
      groups: user.groups ?? [],
      createdAt: this.#clock.now(),
    });
  }

  async list(opts?: ListOptions): Promise<PrincipalWithSecret[]> {
    return this.#store.listPrincipals(opts);
  }

  async get(username: string): Promise<PrincipalWithSecret> {
    const found = await this.#store.getPrincipalByUsername(username);
    if (!found) throw new NotFoundError('user', username);
    return found;
  }

  async setPassword(username: string, password: string): Promise<void> {
    const user = await this.get(username);
    const passwordHash = await this.#hash(password);
    await this.#store.updatePrincipal(user.id, { passwordHash, updatedAt: this.#clock.now() });
  }

  /** Disabling also ends every session of the user. */
  async setDisabled(username: string, disabled: boolean): Promise<void> {
    const user = await this.get(username);
    const now = this.#clock.now();
    await this.#store.transaction(async (tx) => {
      await tx.updatePrincipal(user.id, { disabled, updatedAt: now });
      if (disabled) await tx.revokeAllSessions(user.id, now);
    });
  }

  async setRoles(username: string, roles: readonly string[]): Promise<void> {
    const user = await this.get(username);
    await this.#checkRoles(roles);
    await this.#store.updatePrincipal(user.id, { roles, updatedAt: this.#clock.now() });
  }

  async remove(username: string): Promise<void> {
    const user = await this.get(username);
    await this.#store.deletePrincipal(user.id);
  }

  async #hash(password: string): Promise<string> {
    if (password.length === 0) throw new ValidationError('password must not be empty', 'password');
    if (password.length > 1024) throw new ValidationError('password is longer than 1024 characters', 'password');
    return isArgon2idPhc(password) ? password : this.#passwords.hash(password);
  }

  async #checkRoles(roles: readonly string[]): Promise<void> {
    const policy = await this.#policy.get();
    const unknown = roles.filter((r) => !policy.roles.has(r));
    if (unknown.length) throw new ValidationError(`unknown role(s): ${unknown.join(', ')}`, 'roles');
  }

  async #checkGroups(groups: readonly string[]): Promise<void> {
    const policy = await this.#policy.get();
    const unknown = groups.filter((g) => !policy.groups.has(g));
    if (unknown.length) throw new ValidationError(`unknown group(s): ${unknown.join(', ')}`, 'groups');
  }
}
