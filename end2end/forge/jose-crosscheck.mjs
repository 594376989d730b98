#!/usr/bin/env node
// Cross-checks the remote's Forge Invocation Token handling against an independent JWT
// implementation, jose (the library Atlassian's own JS samples use). Driven by the Rust test
// server/tests/api/jose_crosscheck.rs; it reads one JSON request on stdin and writes one JSON
// answer on stdout.
//
//   echo '{"jwks":{...},"token":"...","audience":"ari:...","issuer":"forge/invocation-token"}' \
//     | node forge/jose-crosscheck.mjs verify
//       -> {"ok":true,"payload":{...}}  or  {"ok":false,"error":"..."} (exit 1)
//   echo '{"claims":{...},"kid":"..."}' | node forge/jose-crosscheck.mjs mint
//       -> {"jwk":{...public key...},"token":"..."}
//
// `verify` is configured the way a careful Forge remote would: RS256 only, issuer and audience
// required, and the clock tolerance the request gives (jose's default of 0 otherwise).
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function verify({ jwks, token, audience, issuer, clockTolerance = 0 }) {
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
    algorithms: ['RS256'],
    audience,
    issuer,
    requiredClaims: ['exp'],
    clockTolerance,
  });
  return { ok: true, payload, protectedHeader };
}

async function mint({ claims, kid }) {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  // SignJWT would add nothing here: the claims, exp and iat included, come from the caller.
  const token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
  return { jwk, token };
}

const commands = { verify, mint };
const command = commands[process.argv[2]];
if (!command) {
  console.error(`usage: jose-crosscheck.mjs <${Object.keys(commands).join('|')}> < request.json`);
  process.exit(2);
}
try {
  process.stdout.write(JSON.stringify(await command(await readStdin())) + '\n');
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: `${error.code ?? ''} ${error.message}` }) + '\n');
  process.exit(1);
}
