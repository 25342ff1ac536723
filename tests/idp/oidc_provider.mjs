// A real OpenID Provider for the tests: the npm package oidc-provider, with its development
// sign-in pages. Usage: node tests/idp/oidc_provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const people = {
  grace: {
    email: "grace@mountainstate.edu",
    email_verified: true,
    name: "Grace Hopper",
    given_name: "Grace",
    family_name: "Hopper",
  },
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
    },
  ],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name"],
  },
  async findAccount(ctx, id) {
    // the account id (what was typed at sign-in) is the subject identifier
    const person = people[id] ?? { email: `${id}@mountainstate.edu`, name: id };
    return { accountId: id, async claims() { return { ...person, sub: id }; } };
  },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  conformIdTokenClaims: false,
  cookies: { keys: ["test-only-cookie-signing-key"] },
});

provider.listen(Number(port), "127.0.0.1", () => console.log("OP ready"));
