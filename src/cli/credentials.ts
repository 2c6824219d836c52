// Where `gatehouse login` keeps tokens: <config dir>/gatehouse/credentials.json, mode 0600.

import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface SavedCredentials {
  server: string;
  username: string;
  provider: string;
  access_token: string;
  refresh_token: string;
}

export function credentialsPath(env: NodeJS.ProcessEnv): string {
  if (env.GATEHOUSE_CREDENTIALS) return env.GATEHOUSE_CREDENTIALS;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'gatehouse', 'credentials.json');
}

export function loadCredentials(env: NodeJS.ProcessEnv): SavedCredentials | null {
  const path = credentialsPath(env);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SavedCredentials;
  } catch {
    return null;
  }
}

export function saveCredentials(env: NodeJS.ProcessEnv, creds: SavedCredentials): string {
  const path = credentialsPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

export function removeCredentials(env: NodeJS.ProcessEnv): boolean {
  const path = credentialsPath(env);
  if (!existsSync(path)) return false;
  rmSync(path);
  return true;
}
