// A real OpenID Connect provider for the Google sign-in tests: oauth2-mock-server on 127.0.0.1.
//
//   node tests/oidc/server.mjs PORT CONTROL_FILE
//
// Serves discovery, JWKS, /authorize (auto-approves), /token (code + PKCE) and /userinfo. Before an id_token is
// signed, the claims in CONTROL_FILE (JSON, re-read on every token) are merged into it, which gives Google-like
// claims (sub, email, email_verified, name) and lets a test tamper with any other claim (nonce, aud, iss...):
//   {"sub": "1234", "email": "a@example.com", "email_verified": true, "name": "A", "override": {"nonce": "x"}}
// A missing or empty control file leaves the mock's defaults (sub "johndoe", no e-mail).
// Prints "oidc-ready ISSUER_URL" once listening; stops on SIGTERM or SIGINT.
import { readFileSync } from "node:fs";
import { OAuth2Server } from "oauth2-mock-server";

const port = Number.parseInt(process.argv[2] ?? "", 10);
const controlFile = process.argv[3];
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: node server.mjs PORT [CONTROL_FILE]");
  process.exit(2);
}

function control() {
  if (!controlFile) return {};
  try {
    const text = readFileSync(controlFile, "utf8").trim();
    return text ? JSON.parse(text) : {};
  } catch (error) {
    if (error.code === "ENOENT") return {};
    throw error;
  }
}

const server = new OAuth2Server();
await server.issuer.keys.generate("RS256");

server.service.on("beforeTokenSigning", (token) => {
  // The access token of the authorization_code grant carries `scope`; the id_token does not.
  if ("scope" in token.payload) return;
  const { override = {}, ...claims } = control();
  Object.assign(token.payload, claims, override);
  for (const [name, value] of Object.entries(override)) {
    if (value === null) delete token.payload[name];
  }
});

// The issuer is 127.0.0.1 rather than the mock's default "localhost", which may resolve to ::1.
server.issuer.url = `http://127.0.0.1:${port}`;
await server.start(port, "127.0.0.1");
console.log(`oidc-ready ${server.issuer.url}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
