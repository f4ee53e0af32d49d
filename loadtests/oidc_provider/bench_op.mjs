// panva's oidc-provider set up for `fapi-lab benchmark`: the same token workload as the lab's
// token endpoint, on the same machine, for a side-by-side rate.
//
//   node bench_op.mjs <config.json>
//
// config.json: {"host", "port", "cert", "key", "node_modules", "client_id", "client_jwks",
//               "scope", "resource"}
// The workload matches the lab's: the client credentials grant (RFC 6749 §4.4) with
// private_key_jwt client authentication (ES256, single-use jti), a JWT access token (RFC 9068)
// signed ES256 for the bank, and, when the request carries a proof, a DPoP-bound token
// (RFC 9449; proof jti replay is checked, no server nonce). GET /jwks is the "bare endpoint"
// it is compared with. The packages are the ones `./fapi-lab test` installs for the interop
// tests (tests/interop/node_modules), so nothing more is installed for the benchmark.
//
// Prints {"event": "ready", "issuer"} on stdout when it listens; exits on SIGTERM/SIGINT or
// when stdin closes (its parent is gone).
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const entry = join(config.node_modules, 'oidc-provider', 'lib', 'index.js');
const { default: Provider } = await import(pathToFileURL(entry).href);

const issuer = `https://${config.host}:${config.port}`;
const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: config.scope,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    id_token_signed_response_alg: 'ES256',   // never used: the only key is ES256
    jwks: config.client_jwks,
  }],
  jwks: { keys: [{ ...signing, alg: 'ES256', use: 'sig', kid: 'bench-es256' }] },
  scopes: config.scope.split(' '),
  clientAuthMethods: ['private_key_jwt'],
  enabledJWA: {
    clientAuthSigningAlgValues: ['ES256'],
    dPoPSigningAlgValues: ['ES256'],
  },
  features: {
    clientCredentials: { enabled: true },
    dPoP: { enabled: true },
    devInteractions: { enabled: false },
    introspection: { enabled: false },
    revocation: { enabled: false },
    // RFC 8707: every token is for the bank, as a JWT (RFC 9068) signed ES256, like the lab's.
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: config.scope,
        audience: config.resource,
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});
provider.on('server_error', (ctx, err) => process.stderr.write(`[op] ${err.stack || err}\n`));

const server = createServer({ cert: readFileSync(config.cert), key: readFileSync(config.key) },
                            provider.callback());
server.on('error', (err) => { process.stderr.write(`[op] listen failed: ${err.message}\n`); process.exit(2); });
server.listen(config.port, config.host, () => {
  process.stdout.write(`${JSON.stringify({ event: 'ready', issuer })}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();   // kept-alive benchmark connections would hold close() open
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
