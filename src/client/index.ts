// Gatehouse TypeScript SDK: a small client for the /api/auth face. It imports nothing from the
// server's folders, so it can be published and used on its own.

export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  refresh_token_expires_in: number;
  token_type: string;
}

export interface ApiKeyInfo {
  first_eight: string;
  expiration_time: string | null;
  note: string | null;
  scopes: string[];
  latest_activity: string | null;
}

export interface ApiKeyWithSecret extends ApiKeyInfo {
  secret: string;
}

export interface PrincipalInfo {
  uuid: string;
  type: string;
  identities: { id: string; provider: string; latest_login: string | null }[];
  api_keys: ApiKeyInfo[];
  sessions: { uuid: string; expiration_time: string; revoked: boolean }[];
  latest_activity: string | null;
  roles: string[];
  scopes: string[];
  api_key_scopes: string[] | null;
}

export interface ScopesResponse {
  roles: string[];
  scopes: string[];
}

/** An answer other than 2xx; `detail` is the server's message. */
export class GatehouseHttpError extends Error {
  readonly status: number;
  readonly detail: unknown;
  constructor(status: number, detail: unknown) {
    super(`${status}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
    this.name = 'GatehouseHttpError';
    this.status = status;
    this.detail = detail;
  }
}

/** The server could not be reached at all. */
export class GatehouseConnectionError extends Error {
  constructor(url: string, cause: unknown) {
    super(`cannot reach ${url}: ${cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause)}`, {
      cause,
    });
    this.name = 'GatehouseConnectionError';
  }
}

export type Credentials =
  | { readonly accessToken: string; readonly refreshToken?: string }
  | { readonly apiKey: string }
  | null;

export interface ClientOptions {
  readonly baseUrl: string;
  readonly credentials?: Credentials;
  /** Called whenever the client obtains new tokens (login, refresh), e.g. to save them. */
  readonly onTokens?: (tokens: TokenResponse) => void | Promise<void>;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

const EXPIRED = 'Access token has expired';

export class GatehouseClient {
  readonly baseUrl: string;
  #credentials: Credentials;
  readonly #onTokens?: (tokens: TokenResponse) => void | Promise<void>;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#credentials = options.credentials ?? null;
    this.#onTokens = options.onTokens;
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  get credentials(): Credentials {
    return this.#credentials;
  }

  async login(username: string, password: string, provider = 'local'): Promise<TokenResponse> {
    const tokens = await this.#request<TokenResponse>(
      'POST',
      `/api/auth/provider/${encodeURIComponent(provider)}/token`,
      { form: { username, password }, auth: false },
    );
    await this.#setTokens(tokens);
    return tokens;
  }

  async refresh(refreshToken?: string): Promise<TokenResponse> {
    const token = refreshToken ?? (this.#credentials && 'refreshToken' in this.#credentials ? this.#credentials.refreshToken : undefined);
    if (!token) throw new Error('no refresh token: log in first');
    const tokens = await this.#request<TokenResponse>('POST', '/api/auth/session/refresh', {
      json: { refresh_token: token },
      auth: false,
    });
    await this.#setTokens(tokens);
    return tokens;
  }

  whoami(): Promise<PrincipalInfo> {
    return this.#authed('GET', '/api/auth/whoami');
  }

  scopes(): Promise<ScopesResponse> {
    return this.#authed('GET', '/api/auth/scopes');
  }

  createApiKey(params: { expiresIn?: number | null; scopes?: string[]; note?: string } = {}): Promise<ApiKeyWithSecret> {
    return this.#authed('POST', '/api/auth/apikey', {
      json: {
        expires_in: params.expiresIn ?? null,
        ...(params.scopes ? { scopes: params.scopes } : {}),
        ...(params.note ? { note: params.note } : {}),
      },
    });
  }

  apiKeyInfo(): Promise<ApiKeyInfo> {
    return this.#authed('GET', '/api/auth/apikey');
  }

  async deleteApiKey(firstEight: string): Promise<void> {
    await this.#authed('DELETE', `/api/auth/apikey?first_eight=${encodeURIComponent(firstEight)}`);
  }

  async revokeSession(sessionId: string): Promise<void> {
    await this.#authed('DELETE', `/api/auth/session/revoke/${encodeURIComponent(sessionId)}`);
  }

  async logout(): Promise<void> {
    await this.#authed('POST', '/api/auth/logout');
    this.#credentials = null;
  }

  async #setTokens(tokens: TokenResponse): Promise<void> {
    this.#credentials = { accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
    await this.#onTokens?.(tokens);
  }

  /** A request with the current credentials; an expired access token is refreshed once. */
  async #authed<T>(method: string, path: string, body: { json?: unknown } = {}): Promise<T> {
    try {
      return await this.#request<T>(method, path, body);
    } catch (error) {
      const creds = this.#credentials;
      const canRefresh = creds && 'refreshToken' in creds && creds.refreshToken;
      if (error instanceof GatehouseHttpError && error.status === 401 && canRefresh && String(error.detail).includes(EXPIRED)) {
        await this.refresh();
        return this.#request<T>(method, path, body);
      }
      throw error;
    }
  }

  async #request<T>(
    method: string,
    path: string,
    options: { json?: unknown; form?: Record<string, string>; auth?: boolean } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const creds = this.#credentials;
    if (options.auth !== false && creds) {
      headers.authorization = 'apiKey' in creds ? `Apikey ${creds.apiKey}` : `Bearer ${creds.accessToken}`;
    }
    let body: string | undefined;
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    } else if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    let response: Response;
    try {
      response = await this.#fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new GatehouseConnectionError(this.baseUrl, error);
    }
    const text = await response.text();
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!response.ok) {
      const detail = parsed && typeof parsed === 'object' && 'detail' in parsed ? parsed.detail : parsed;
      throw new GatehouseHttpError(response.status, detail);
    }
    return parsed as T;
  }
}
