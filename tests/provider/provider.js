// A real OpenID provider for the tests: node's certified oidc-provider, on a loopback port.
//
//   node provider.js --keys KEYS.json [--port N] [--audience AUD]
//   node provider.js generate KID:ALG...     (prints a private JWK Set for --keys)
//
// KEYS.json holds private JWKs (each with kid, alg, use: sig); the first key of an algorithm signs with
// it, the others are published too (how a rotation keeps old tokens verifiable). Access tokens are
// RFC 9068 JWTs for the resource AUD, signed with the algorithm the token request's `token_alg`
// parameter names (RS256 by default), or opaque tokens for `token_alg=opaque`, which only introspection
// (`/token/introspection`, RFC 7662) reads; `/token/revocation` revokes (RFC 7009). Clients:
//   - `johndoe` (secret `johndoe-secret`): client credentials; its tokens' subject is `johndoe`.
//   - `swagger`: a public client for the authorization code flow with PKCE (Swagger UI's).
//   - `api` (secret `api-secret`): the resource server, which introspects and revokes any token; its
//     introspection answers are signed JWTs (RFC 9701) when it accepts them.
// Printed on standard output once listening: one JSON line {"issuer": ..., "port": ...}.
// GET /__stats answers {"jwks": N, "introspections": M}: how many times the key set was fetched, and
// tokens introspected.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

// `node provider.js generate KID:ALG...` prints a fresh private JWK Set with one key per argument.
if (process.argv[2] === 'generate') {
  const pairs = { RS256: ['rsa', { modulusLength: 2048 }], PS256: ['rsa', { modulusLength: 2048 }],
    ES256: ['ec', { namedCurve: 'P-256' }], ES384: ['ec', { namedCurve: 'P-384' }], EdDSA: ['ed25519', {}] };
  const keys = process.argv.slice(3).map((spec) => {
    const [kid, alg] = spec.split(':');
    const { privateKey } = crypto.generateKeyPairSync(...pairs[alg]);
    return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  });
  console.log(JSON.stringify({ keys }));
  process.exit(0);
}

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string' },
    port: { type: 'string', default: '0' },
    audience: { type: 'string', default: 'http://127.0.0.1/api' },
  },
});
const keys = JSON.parse(fs.readFileSync(args.keys, 'utf8')).keys;
const algorithms = [...new Set(keys.map((key) => key.alg))];
const scopes = ['openid', 'me', 'items'];

const server = http.createServer();
server.listen(Number(args.port), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  let jwksFetches = 0;
  let introspections = 0;

  const provider = new Provider(issuer, {
    jwks: { keys },
    enabledJWA: {
      idTokenSigningAlgValues: algorithms,
      introspectionSigningAlgValues: algorithms,
    },
    scopes,
    extraParams: ['token_alg'],
    clients: [
      {
        client_id: 'johndoe',
        client_secret: 'johndoe-secret',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: algorithms[0],
        // With `jwtIntrospection` on, every client's default (RS256) must be an algorithm in hand too.
        introspection_signed_response_alg: algorithms[0],
        scope: 'me items',
      },
      {
        client_id: 'swagger',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: (process.env.PROVIDER_REDIRECT_URIS || 'http://127.0.0.1/docs/oauth2-redirect.html').split(','),
        id_token_signed_response_alg: algorithms[0],
        // With `jwtIntrospection` on, every client's default (RS256) must be an algorithm in hand too.
        introspection_signed_response_alg: algorithms[0],
        scope: 'openid me items',
      },
      {
        client_id: 'api',
        client_secret: 'api-secret',
        grant_types: [],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: algorithms[0],
        // With `jwtIntrospection` on, every client's default (RS256) must be an algorithm in hand too.
        introspection_signed_response_alg: algorithms[0],
      },
    ],
    clientBasedCORS: () => true,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // A confidential client may introspect any token; a public one only its own.
        allowedPolicy: async (ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === client.clientId,
      },
      jwtIntrospection: { enabled: true },
      revocation: {
        enabled: true,
        // The resource server revokes the tokens presented to it; any other client only its own.
        allowedPolicy: async (ctx, client, token) => client.clientId === 'api' || token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => args.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx) => {
          const alg = ctx.oidc.body?.token_alg || ctx.oidc.params?.token_alg || 'RS256';
          if (alg === 'opaque') return { scope: 'me items', audience: args.audience, accessTokenFormat: 'opaque' };
          return { scope: 'me items', audience: args.audience, accessTokenFormat: 'jwt', jwt: { sign: { alg } } };
        },
      },
    },
    findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  });
  provider.proxy = false;
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url === '/__stats') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ jwks: jwksFetches, introspections }));
      return;
    }
    if (req.url === '/jwks') jwksFetches += 1;
    if (req.url === '/token/introspection') introspections += 1;
    callback(req, res);
  });
  console.log(JSON.stringify({ issuer, port }));
});
