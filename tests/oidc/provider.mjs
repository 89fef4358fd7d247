// A real OpenID provider (the `oidc-provider` package) on loopback, for the single sign-on tests.
//
// node provider.mjs, with in the environment:
//   OIDC_TEST_CLIENT        JSON: {"client_id", "client_secret", "redirect_uris": [...]}
//   OIDC_TEST_ACCOUNTS      JSON (optional): {"<login>": {claims that replace the defaults}}
//   OIDC_TEST_USERINFO_ONLY 1 (optional): the e-mail only from the userinfo endpoint, not in the ID token
//
// It listens on a free port of 127.0.0.1 and prints its issuer URL as its first line of output.
// Whatever login is typed on its sign-in page (any password) becomes the account: its e-mail is
// the login itself, verified, unless OIDC_TEST_ACCOUNTS says otherwise for that login (for
// instance {"email_verified": false}, or {"email": null} for an account without one).
import http from 'node:http';

import Provider from 'oidc-provider';

const client = JSON.parse(process.env.OIDC_TEST_CLIENT);
const accounts = JSON.parse(process.env.OIDC_TEST_ACCOUNTS || '{}');

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    ...client,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The scopes' claims go into the ID token itself, as most enterprise providers send them; with
  // OIDC_TEST_USERINFO_ONLY=1 only the userinfo endpoint gives them, as the specification has it.
  conformIdTokenClaims: process.env.OIDC_TEST_USERINFO_ONLY === '1',
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const claims = { sub: id, email: id, email_verified: true, name: id.split('@')[0], ...accounts[id] };
    for (const [key, value] of Object.entries(claims)) {
      if (value === null) delete claims[key];
    }
    return { accountId: id, claims: async () => claims };
  },
});

// The development sign-in pages import a web font; nothing in the tests may come from the internet.
provider.use(async (ctx, next) => {
  await next();
  if (typeof ctx.body === 'string' && ctx.type.startsWith('text/html')) {
    ctx.body = ctx.body.replace(/@import url\([^)]*\);/g, '');
  }
});

server.on('request', provider.callback());
console.log(issuer);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
