// An outside FAPI 2.0 client for the lab's AS and bank: panva's openid-client v6 (a certified
// RP library), used the way its documentation shows. Talks JSON lines:
//
//   node rp.mjs '<json options>'     options: {issuer, redirect_uri, scope, resource_url,
//                                              dpop_at_par (default true),
//                                              jar: sign the request object (RFC 9101),
//                                              jarm: response_mode=jwt (JARM),
//                                              par (default true): push it (RFC 9126),
//                                              mtls: {cert, key} PEM paths: mutual TLS on
//                                              every call and certificate-bound tokens
//                                              (RFC 8705 §3) instead of DPoP,
//                                              tls_client_auth_subject_dn: with mtls, client
//                                              authentication by that certificate
//                                              (RFC 8705 §2.1) instead of private_key_jwt}
//
//   stdout  {"event": "registered", "client_id", "token_endpoint_auth_method"}
//           {"event": "authorization_url", "url"}          then waits for one stdin line
//   stdin   {"callback": "<the full URL the AS redirected the browser to>"}
//   stdout  {"event": "tokens", "token_type", "scope", "refresh_token": bool, "id_token": bool,
//            "access_token_cnf" (a JWT access token's cnf, else null), "dpop_jkt"}
//           {"event": "resource", "status", "body"}
//           {"event": "refreshed", "token_type", "resource_status", "rotated"}  (if a refresh
//           {"event": "revoked", "refresh_after_revocation": {"refused", "error"}}   token came)
//           {"event": "done"}
//   or      {"event": "error", "step", "name", "message", "code", "error", "error_description",
//            "status", "body"}  and exit code 1.
//
// It trusts the lab CA through NODE_EXTRA_CA_CERTS (set by the test); there is no
// allowInsecureRequests anywhere: TLS is real.
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import process from 'node:process';
import { createInterface } from 'node:readline';

import * as jose from 'jose';
import * as client from 'openid-client';

const options = JSON.parse(process.argv[2] || '{}');
const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
let step = 'start';

async function fail(err) {
  const out = { event: 'error', step, name: err?.name, message: err?.message, code: err?.code,
                error: err?.error, error_description: err?.error_description,
                status: err?.status ?? err?.response?.status };
  const cause = err?.cause;
  if (cause instanceof Response) {
    out.status = cause.status;
    out.www_authenticate = cause.headers.get('www-authenticate');
    try { out.body = await cause.text(); } catch { /* already read */ }
  } else if (cause !== undefined) {
    try { out.cause = JSON.parse(JSON.stringify(cause)); } catch { out.cause = String(cause); }
  }
  if (err?.response instanceof Response && out.body === undefined) {
    out.www_authenticate = err.response.headers.get('www-authenticate');
  }
  say(out);
  process.stderr.write(`[rp] ${step}: ${err?.stack || err}\n`);
  process.exit(1);
}

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function nextMessage() {
  const { value, done } = await lines.next();
  if (done) throw new Error('stdin closed before the callback URL arrived');
  return JSON.parse(value);
}

// openid-client talks through fetch; Node's built-in fetch has no way to present a TLS client
// certificate without the undici package, so for mutual TLS it gets this fetch over
// node:https (openid-client's documented customFetch hook, RFC 8705 §3).
function mtlsFetch(cert, key) {
  return (url, init = {}) => new Promise((resolve, reject) => {
    const headers = {};
    new Headers(init.headers).forEach((value, name) => { headers[name] = value; });
    const body = init.body === undefined || init.body === null ? null : Buffer.from(String(init.body));
    if (body) headers['content-length'] = String(body.length);   // no chunked uploads
    const req = httpsRequest(String(url), { method: init.method || 'GET', headers, cert, key,
                                             signal: init.signal }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const out = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const one of [].concat(value ?? [])) out.append(name, one);
        }
        const empty = [204, 304].includes(res.statusCode);
        resolve(new Response(empty ? null : Buffer.concat(chunks),
                             { status: res.statusCode, headers: out }));
      });
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

async function main() {
  const issuer = new URL(options.issuer);
  const redirectUri = options.redirect_uri;
  const scope = options.scope || 'openid accounts:read';
  const usePar = options.par !== false;
  const mtls = options.mtls
    ? mtlsFetch(readFileSync(options.mtls.cert), readFileSync(options.mtls.key)) : null;
  const fetchOptions = mtls ? { [client.customFetch]: mtls } : {};

  // The client's own key for private_key_jwt (RFC 7523), made here; only its public half
  // leaves the process, in the registration's jwks.
  step = 'keys';
  const { privateKey, publicKey } = await crypto.subtle.generateKey(
    { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const publicJwk = await jose.exportJWK(publicKey);
  const kid = await jose.calculateJwkThumbprint(publicJwk);
  const jwks = { keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] };

  // Discovery + RFC 7591 registration in one call (openid-client's dynamicClientRegistration).
  step = 'register';
  const tlsAuth = Boolean(mtls && options.tls_client_auth_subject_dn);
  const config = await client.dynamicClientRegistration(issuer, {
    client_name: 'openid-client interop RP',
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    ...(tlsAuth ? { token_endpoint_auth_method: 'tls_client_auth',
                    tls_client_auth_subject_dn: options.tls_client_auth_subject_dn }
      : { token_endpoint_auth_method: 'private_key_jwt' }),
    jwks,   // private_key_jwt, and the key the request objects are signed with
    ...(mtls ? { tls_client_certificate_bound_access_tokens: true }
      : { dpop_bound_access_tokens: true }),
    id_token_signed_response_alg: 'ES256',   // FAPI 2.0 §5.4.1: PS256, ES256 or EdDSA
    // RFC 9101 §10.2 / JARM §3: the algorithms this client signs and expects.
    ...(options.jar ? { request_object_signing_alg: 'ES256' } : {}),
    ...(options.jarm ? { authorization_signed_response_alg: 'ES256' } : {}),
    scope,
  }, tlsAuth ? client.TlsClientAuth() : client.PrivateKeyJwt({ key: privateKey, kid }),
  { timeout: 15, ...fetchOptions,
    // JARM: response_mode=jwt, and the response is a JWT checked against the AS's jwks_uri
    // (signature, iss, aud, exp) before its code is read.
    execute: options.jarm ? [client.useJwtResponseMode] : [] });
  const registered = config.clientMetadata();
  say({ event: 'registered', client_id: registered.client_id,
        token_endpoint_auth_method: registered.token_endpoint_auth_method,
        metadata: Object.keys(registered).sort() });

  const meta = config.serverMetadata();
  if (usePar && !meta.pushed_authorization_request_endpoint) {
    throw new Error('the AS metadata has no pushed_authorization_request_endpoint');
  }

  // RFC 9449: one DPoP key for the whole grant.
  step = 'par';
  const dpopKeys = mtls ? null : await client.randomDPoPKeyPair('ES256');
  const DPoP = mtls ? undefined : client.getDPoPHandle(config, dpopKeys);

  // RFC 7636 S256 + RFC 9126 PAR: only client_id and request_uri go through the browser.
  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  let parameters = { redirect_uri: redirectUri, scope, code_challenge: codeChallenge,
                     code_challenge_method: 'S256' };
  let requestObject = null;
  if (options.jar) {
    // RFC 9101 §4: every parameter inside one JWS signed with the registered key (iss, aud =
    // issuer, exp = nbf + 60 s); openid-client's documented way to combine it with PAR is to
    // push the `request` it returns.
    const byValue = await client.buildAuthorizationUrlWithJAR(config, parameters,
                                                              { key: privateKey, kid });
    parameters = byValue.searchParams;
    requestObject = jose.decodeProtectedHeader(parameters.get('request'));
    requestObject.claims = jose.decodeJwt(parameters.get('request'));
  }
  const authorizationUrl = usePar
    ? await client.buildAuthorizationUrlWithPAR(
      config, parameters, options.dpop_at_par === false || !DPoP ? {} : { DPoP })
    : client.buildAuthorizationUrl(config, parameters);
  say({ event: 'authorization_url', url: authorizationUrl.href, request_object: requestObject });

  step = 'callback';
  const message = await nextMessage();
  if (!message.callback) throw new Error(`expected {"callback": ...}, got ${JSON.stringify(message)}`);

  // Checks iss (RFC 9207) when the AS advertises it, PKCE, and the token response.
  step = 'token';
  const tokens = await client.authorizationCodeGrant(
    config, new URL(message.callback), { pkceCodeVerifier: codeVerifier, idTokenExpected: scope.split(' ').includes('openid') },
    undefined, { DPoP });
  // Read, not trusted: the access token is the resource server's business, but a JWT one
  // (RFC 9068) shows which key the AS bound it to (RFC 9449 §6.1, cnf.jkt).
  let cnf = null;
  try { cnf = jose.decodeJwt(tokens.access_token).cnf ?? null; } catch { /* opaque */ }
  say({ event: 'tokens', token_type: tokens.token_type, scope: tokens.scope ?? null,
        refresh_token: Boolean(tokens.refresh_token), id_token: Boolean(tokens.id_token),
        expires_in: tokens.expires_in ?? null, access_token_cnf: cnf,
        dpop_jkt: dpopKeys
          ? await jose.calculateJwkThumbprint(await jose.exportJWK(dpopKeys.publicKey)) : null });
  const expected = mtls ? 'bearer' : 'dpop';   // RFC 8705 §3: a bound token is still Bearer
  if (String(tokens.token_type).toLowerCase() !== expected) {
    throw new Error(`token_type is ${tokens.token_type}, expected ${expected}`);
  }

  step = 'resource';
  const response = await client.fetchProtectedResource(
    config, tokens.access_token, new URL(options.resource_url), 'GET', undefined, undefined,
    { DPoP });
  const text = await response.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  say({ event: 'resource', status: response.status, body,
        www_authenticate: response.headers.get('www-authenticate') });

  if (tokens.refresh_token) {
    // RFC 6749 §6 with a DPoP proof, so the new access token is bound to the same key
    // (RFC 9449 §5), then the API again with it.
    step = 'refresh';
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined,
                                                     { DPoP });
    const again = await client.fetchProtectedResource(
      config, refreshed.access_token, new URL(options.resource_url), 'GET', undefined,
      undefined, { DPoP });
    say({ event: 'refreshed', token_type: refreshed.token_type, resource_status: again.status,
          rotated: Boolean(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token) });

    // RFC 7009: revoke the refresh token (private_key_jwt at the revocation endpoint);
    // the grant is over, so the next refresh must be refused.
    step = 'revoke';
    const current = refreshed.refresh_token || tokens.refresh_token;
    await client.tokenRevocation(config, current, { token_type_hint: 'refresh_token' });
    let after;
    try {
      await client.refreshTokenGrant(config, current, undefined, { DPoP });
      after = { refused: false };
    } catch (err) {
      after = { refused: true, error: err.error ?? err.code ?? err.message };
    }
    say({ event: 'revoked', refresh_after_revocation: after });
  }
  say({ event: 'done' });
  process.exit(0);
}

main().catch(fail);
