// An outside FAPI 2.0 OpenID Provider for the lab's TPP to link: panva's oidc-provider
// (a certified OP), plus a tiny DPoP-protected account API shaped like the lab bank's.
//
//   node op.mjs <config.json>
//
// config.json: {"host", "port", "cert", "key", "client": {...static client metadata...},
//               "registration": false, "fapi": "2.0" (default) | "1.0 Final",
//               "jar": signed request objects required (features.requestObjects),
//               "jarm": JWT response modes (features.jwtResponseModes),
//               "mtls_ca": a CA file: ask for TLS client certificates and bind tokens to them
//                          (features.mTLS.certificateBoundAccessTokens, RFC 8705 §3)}
// Prints one JSON line {"event": "ready", "issuer", "api_base"} on stdout when it listens;
// then one JSON line per PAR, access token and API request ({"event": "par" | "access_token"
// | "api", ...}). Diagnostics go to
// stderr. Exits on SIGTERM/SIGINT or when stdin closes (its parent is gone).
import { X509Certificate, createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import process from 'node:process';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `https://${config.host}:${config.port}`;
const apiPath = '/api';
const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const log = (...args) => process.stderr.write(`[op] ${args.join(' ')}\n`);

// FAPI 2.0 §5.4.1: PS256, ES256 or EdDSA; the OP signs with ES256 and publishes a PS256 key.
function signingKeys() {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  return { keys: [{ ...ec, alg: 'ES256', use: 'sig', kid: 'op-es256' },
                  { ...rsa, alg: 'PS256', use: 'sig', kid: 'op-ps256' }] };
}

// RFC 8705 §3: the certificate the client presented on this TLS connection, if any.
function peerCertificate(ctx) {
  const peer = ctx.req.socket.getPeerCertificate?.();
  return peer?.raw ? new X509Certificate(peer.raw) : undefined;
}

const SCOPES = ['openid', 'offline_access', 'accounts:read', 'transactions:read', 'payments:write'];
const DEMO_USER = 'outside-user';

const provider = new Provider(issuer, {
  clients: config.client ? [config.client] : [],
  responseTypes: ['code'],   // FAPI 2.0 §5.3.2.2: the code flow only
  jwks: signingKeys(),
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: SCOPES,
  claims: { openid: ['sub'], profile: ['name'] },
  clientAuthMethods: ['private_key_jwt'],
  enabledJWA: {
    clientAuthSigningAlgValues: ['ES256', 'PS256', 'EdDSA'],
    dPoPSigningAlgValues: ['ES256', 'PS256', 'EdDSA'],
    idTokenSigningAlgValues: ['ES256', 'PS256'],
    requestObjectSigningAlgValues: ['ES256', 'PS256'],
    authorizationSigningAlgValues: ['ES256', 'PS256'],
  },
  features: {
    fapi: { enabled: true, profile: config.fapi || '2.0' },
    requestObjects: { enabled: Boolean(config.jar), requireSignedRequestObject: Boolean(config.jar) },
    jwtResponseModes: { enabled: Boolean(config.jarm) },
    mTLS: { enabled: Boolean(config.mtls_ca), certificateBoundAccessTokens: true,
            getCertificate: peerCertificate },
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
    dPoP: { enabled: true },
    devInteractions: { enabled: true },   // its login (any name/password) and consent pages
    revocation: { enabled: true },
    introspection: { enabled: false },
    // Open DCR only for the harness self-check (openid-client against oidc-provider).
    registration: { enabled: Boolean(config.registration) },
  },
  // PKCE S256 is required for every client by the FAPI 2.0 profile (pkce.required default).
  pkce: { required: () => true },
  // A refresh token whenever the client may use one (the aggregator asks for offline_access).
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  async findAccount(ctx, id) {
    return { accountId: id, claims: async () => ({ sub: id, name: 'Outside User' }) };
  },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, RefreshToken: 86400,
         Interaction: 600, Session: 3600, Grant: 86400 },
});
// What the client did, for the test to check: PAR used, tokens DPoP-bound.
provider.on('pushed_authorization_request.success', (ctx) => say({
  event: 'par', client_id: ctx.oidc.client?.clientId,
  client_auth: ctx.oidc.client?.clientAuthMethod,
  request_object: typeof ctx.oidc.body?.request === 'string' }));
provider.on('authorization.success', (ctx) => say({
  event: 'authorization', client_id: ctx.oidc.client?.clientId,
  response_mode: ctx.oidc.params?.response_mode ?? null, nonce: Boolean(ctx.oidc.params?.nonce) }));
for (const event of ['access_token.saved', 'access_token.issued']) {   // opaque / JWT
  provider.on(event, (token) => say({
    event: 'access_token', client_id: token.clientId, dpop_bound: Boolean(token.jkt),
    mtls_bound: Boolean(token['x5t#S256']) }));
}
provider.on('server_error', (ctx, err) => log('server_error', err.stack || err));
for (const event of ['authorization.error', 'grant.error', 'pushed_authorization_request.error',
                     'introspection.error', 'revocation.error', 'userinfo.error']) {
  provider.on(event, (ctx, err) => log(event, err.name, err.message, err.error_description || '',
                                       err.error_detail || ''));
}

// ---- the account API (an independent resource server trusting this OP) -------------------

const ACCOUNT = { account_id: 'op-acc-1', type: 'checking', name: 'Outside Checking',
                  iban: 'DE89370400440532013000', currency: 'EUR' };
const BALANCE = '1234.56';
const seenJti = new Set();

const b64sha256 = (value) => createHash('sha256').update(value).digest('base64url');

class Refusal extends Error {
  constructor(status, error, description) {
    super(description);
    this.status = status;
    this.error = error;
  }
}

// RFC 9449 §7.1 / §4.3: a DPoP-bound access token comes with a proof for this request, signed
// by the key the token is bound to, covering the method, the URL and the token (ath).
async function authorize(ctx, scope) {
  const [scheme, value] = (ctx.get('authorization') || '').split(' ');
  if (config.mtls_ca && scheme?.toLowerCase() === 'bearer' && value) {
    return certificateBound(ctx, value, scope);
  }
  if (!scheme || scheme.toLowerCase() !== 'dpop' || !value) {
    throw new Refusal(401, 'invalid_token', 'DPoP access token required');
  }
  const token = await provider.AccessToken.find(value);
  if (!token || token.isExpired) throw new Refusal(401, 'invalid_token', 'unknown or expired token');
  if (!token.jkt) throw new Refusal(401, 'invalid_token', 'token is not DPoP-bound');
  const proof = ctx.get('dpop');
  if (!proof) throw new Refusal(401, 'invalid_dpop_proof', 'no DPoP proof');
  let verified;
  try {
    verified = await jose.jwtVerify(proof, jose.EmbeddedJWK, {
      typ: 'dpop+jwt', algorithms: ['ES256', 'PS256', 'EdDSA'], maxTokenAge: '60s',
      clockTolerance: 10,
    });
  } catch (err) {
    throw new Refusal(401, 'invalid_dpop_proof', `proof does not verify: ${err.message}`);
  }
  const { payload, protectedHeader } = verified;
  const htu = `${issuer}${ctx.path}`;
  if (payload.htm !== ctx.method) throw new Refusal(401, 'invalid_dpop_proof', 'htm mismatch');
  if (typeof payload.htu !== 'string' || payload.htu.split(/[?#]/)[0] !== htu) {
    throw new Refusal(401, 'invalid_dpop_proof', `htu ${payload.htu} is not ${htu}`);
  }
  if (payload.ath !== b64sha256(value)) throw new Refusal(401, 'invalid_dpop_proof', 'ath mismatch');
  if (await jose.calculateJwkThumbprint(protectedHeader.jwk) !== token.jkt) {
    throw new Refusal(401, 'invalid_token', 'proof key is not the key the token is bound to');
  }
  if (typeof payload.jti !== 'string' || seenJti.has(payload.jti)) {
    throw new Refusal(401, 'invalid_dpop_proof', 'jti missing or replayed');
  }
  seenJti.add(payload.jti);
  if (!String(token.scope || '').split(' ').includes(scope)) {
    throw new Refusal(403, 'insufficient_scope', `${scope} not granted`);
  }
  return token;
}

// RFC 8705 §3: a certificate-bound token comes over TLS with the certificate it is bound to.
async function certificateBound(ctx, value, scope) {
  const token = await provider.AccessToken.find(value);
  if (!token || token.isExpired) throw new Refusal(401, 'invalid_token', 'unknown or expired token');
  const cert = peerCertificate(ctx);
  const x5t = cert ? createHash('sha256').update(cert.raw).digest('base64url') : null;
  if (!token['x5t#S256'] || token['x5t#S256'] !== x5t) {
    throw new Refusal(401, 'invalid_token', 'token is not bound to this TLS client certificate');
  }
  if (!String(token.scope || '').split(' ').includes(scope)) {
    throw new Refusal(403, 'insufficient_scope', `${scope} not granted`);
  }
  return token;
}

function transactions() {
  const today = new Date();
  return [1, 3, 8].map((daysAgo, i) => {
    const day = new Date(today.getTime() - daysAgo * 86400_000).toISOString().slice(0, 10);
    return { transaction_id: `op-tx-${i + 1}`, booking_date: day,
             amount: { amount: ['-12.50', '-40.00', '2500.00'][i], currency: 'EUR' },
             description: ['Coffee', 'Groceries', 'Salary'][i],
             counterparty: ['Outside Cafe', 'Outside Market', 'Outside Employer Ltd'][i] };
  });
}

async function api(ctx) {
  const rest = ctx.path.slice(apiPath.length);
  const account = `/accounts/${ACCOUNT.account_id}`;
  let scope = 'accounts:read';
  let body;
  if (ctx.method === 'GET' && rest === '/accounts') {
    body = { accounts: [ACCOUNT] };
  } else if (ctx.method === 'GET' && rest === `${account}/balances`) {
    body = { account_id: ACCOUNT.account_id, balances: [
      { type: 'closingBooked', amount: { amount: BALANCE, currency: 'EUR' },
        reference_date: new Date().toISOString().slice(0, 10) }] };
  } else if (ctx.method === 'GET' && rest === `${account}/transactions`) {
    scope = 'transactions:read';
    const list = transactions();
    body = { account_id: ACCOUNT.account_id, transactions: list, page: 1,
             page_size: list.length, total: list.length, _links: { self: ctx.href } };
  } else {
    ctx.status = 404;
    ctx.body = { error: 'not_found' };
    return;
  }
  try {
    await authorize(ctx, scope);
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    say({ event: 'api', method: ctx.method, path: ctx.path, status: err.status, error: err.message });
    ctx.status = err.status;
    ctx.set('WWW-Authenticate', config.mtls_ca ? `Bearer error="${err.error}"`
      : `DPoP error="${err.error}", algs="ES256 PS256 EdDSA"`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: err.error, error_description: err.message };
    return;
  }
  say({ event: 'api', method: ctx.method, path: ctx.path, status: 200 });
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

provider.use(async (ctx, next) => {
  if (ctx.path === apiPath || ctx.path.startsWith(`${apiPath}/`)) return api(ctx);
  await next();
  log(ctx.method, ctx.path, ctx.status);
});

const tls = { cert: readFileSync(config.cert), key: readFileSync(config.key) };
if (config.mtls_ca) {
  // Ask for a client certificate from the lab CA; whether a request needs one is decided
  // per request (certificate-bound tokens), as at the lab.
  Object.assign(tls, { requestCert: true, rejectUnauthorized: false, ca: readFileSync(config.mtls_ca) });
}
const server = createServer(tls, provider.callback());
server.on('error', (err) => { log('listen failed:', err.message); process.exit(2); });
server.listen(config.port, config.host, () => {
  say({ event: 'ready', issuer, api_base: `${issuer}${apiPath}` });
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
