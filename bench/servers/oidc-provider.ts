// Peer: node-oidc-provider answering RFC 7662 token introspection for an opaque access token
// (client_credentials). Its default adapter is an in-memory LRU meant for development, so this
// figure is an upper bound without any database round trip.
//
// usage: node bench/servers/oidc-provider.ts

import { createServer } from 'node:http';
import { announce, closeOnTerm, importPeer } from './common.ts';

const { default: Provider } = await importPeer('oidc-provider');

const CLIENT_ID = 'bench';
const CLIENT_SECRET = 'bench-secret-bench-secret';

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
const port = typeof address === 'object' && address ? address.port : 0;
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  scopes: ['api:read'],
  ttl: { ClientCredentials: 3600 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
  },
});
server.on('request', provider.callback());

const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
const tokenResponse = await fetch(`${issuer}/token`, {
  method: 'POST',
  headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
  body: 'grant_type=client_credentials&scope=api%3Aread',
});
const token = (await tokenResponse.json()) as { access_token?: string };
if (!token.access_token) throw new Error(`oidc-provider issued no token: ${tokenResponse.status}`);
const check = await fetch(`${issuer}/token/introspection`, {
  method: 'POST',
  headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
  body: `token=${token.access_token}`,
});
const introspection = (await check.json()) as { active?: boolean };
if (!introspection.active) throw new Error('oidc-provider does not find its own token active');

closeOnTerm(() => new Promise<void>((resolve) => server.close(() => resolve())));
announce(issuer, { token: token.access_token, authorization: basic });
