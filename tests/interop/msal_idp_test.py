#!/usr/bin/python3
"""Real MSAL (Debian's python3-msal) against deputy's development identity provider.

Starts `deputy idp --state <tmp> --port 0`, trusts its CA through REQUESTS_CA_BUNDLE, and drives MSAL's
ConfidentialClientApplication with instance_discovery=False and authority https://127.0.0.1:PORT/<tenant>:
client credentials; the authorization code flow with PKCE (the pages' forms posted as a browser would, cookies
kept): the sign-in session (prompt=none, prompt=login), the account picker, the consent page, carol's MFA step
after the server's On-Behalf-Of answered with a claims challenge; the refresh token through acquire_token_silent; On-Behalf-Of with a secret and with a certificate; and the errors
a middle tier must handle (claims challenge, forged, expired and misaddressed assertions, wrong secrets, a
reused code, an unregistered redirect URI); then the chain's last hop: the OBO result presented to the dev Graph
(`graph on URL`), which serves alice's site to alice and refuses bob, and records the token by its hash.
Assertions for the OBO checks come from `deputy idp mint-token`,
which signs exactly as the token endpoint does, so that each user's case needs no sign-in.

Run: /usr/bin/python3 tests/interop/msal_idp_test.py [path/to/deputy]   (default: build/release/deputy)
Prints one line per check and "N passed, M failed"; exits 1 on any failure.
"""

import base64
import html.parser
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

import msal
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
import jwt

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPUTY = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "release", "deputy")
DIRECTORY = os.path.join(ROOT, "examples", "dev-directory.yaml")

with open(DIRECTORY) as f:
    DIR = yaml.safe_load(f)
TENANT = DIR["tenant"]["id"]
SERVER = DIR["applications"]["server"]
CLIENT = DIR["applications"]["client"]
SERVER_ID = SERVER["client_id"]
CLIENT_ID = CLIENT["client_id"]
GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]

passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok    {name}")
    else:
        failed += 1
        print(f"FAIL  {name} {detail}")


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


REDIRECT_URI = "http://localhost:8100/auth/callback"


class Page(html.parser.HTMLParser):
    """One of the provider's pages as a browser sees it: the form's action and hidden inputs (the CSRF token),
    the ids on it (#username, #password, #otp, #accept, #cancel, #other) and the accounts the picker offers."""

    def __init__(self, text):
        super().__init__()
        self.action = None
        self.fields = {}
        self.ids = set()
        self.accounts = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "form":
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "button" and attrs.get("data-account"):
            self.accounts.append(attrs["data-account"])


class Browser:
    """A browser with a cookie jar: opens an authorization URL, posts the pages' forms, never follows the
    redirect to the client (its query is what MSAL wants)."""

    def __init__(self):
        import requests
        self.session = requests.Session()

    def open(self, url):
        return self.session.get(url, allow_redirects=False, timeout=10)

    def submit(self, answer, **fields):
        page = Page(answer.text)
        data = dict(page.fields)
        data.update(fields)
        return self.session.post(page.action, data=data, allow_redirects=False, timeout=10)

    def sign_in(self, url, login, password):
        return self.submit(self.open(url), username=login, password=password)


def shows(answer, element_id):
    return answer.status_code == 200 and element_id in Page(answer.text).ids


def sign_in(flow, login, password):
    """Follows flow["auth_uri"] in a fresh browser: the page, the form posted, the redirect not followed."""
    return Browser().sign_in(flow["auth_uri"], login, password)


def redirect_params(answer):
    location = answer.headers.get("Location", "")
    return location, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


class Idp:
    def __init__(self, state):
        self.state = state
        self.process = subprocess.Popen(
            [DEPUTY, "idp", "--state", state, "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.url = None
        self.graph = None
        deadline = time.time() + 60
        lines = []
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("graph on "):
                self.graph = line.split()[2].rstrip("/")
            if line.startswith("listening on "):
                self.url = line.split()[2].rstrip("/")
                break
        if self.url is None:
            self.stop()
            raise RuntimeError("deputy idp did not start:\n" + "".join(lines))
        self.ca = os.path.join(state, "ca.pem")

    def mint(self, user, *extra):
        result = subprocess.run([DEPUTY, "idp", "mint-token", "--state", self.state, "--user", user, *extra],
                                capture_output=True, text=True, check=True)
        return result.stdout.strip()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def app(idp, client_id, credential):
    return msal.ConfidentialClientApplication(
        client_id, client_credential=credential, authority=f"{idp.url}/{TENANT}", instance_discovery=False)


def certificate_credential(idp):
    base = os.path.join(idp.state, "apps", SERVER_ID)
    with open(base + ".pem", "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    with open(base + "-key.pem") as f:
        key = f.read()
    return {"private_key": key, "thumbprint": cert.fingerprint(hashes.SHA1()).hex()}


def main(idp):
    server = app(idp, SERVER_ID, SERVER["secrets"][0])

    # --- client credentials
    result = server.acquire_token_for_client(GRAPH_DEFAULT)
    check("client credentials for Graph: a token", "access_token" in result, result)
    if "access_token" in result:
        c = claims_of(result["access_token"])
        check("  v1 shape: aud Graph, iss sts.windows.net, appid, idtyp app, no scp",
              c["aud"] == "https://graph.microsoft.com" and c["iss"] == f"https://sts.windows.net/{TENANT}/"
              and c["appid"] == SERVER_ID and c["idtyp"] == "app" and "scp" not in c and c["ver"] == "1.0", c)

    client = app(idp, CLIENT_ID, CLIENT["secrets"][0])
    result = client.acquire_token_for_client([f"api://{SERVER_ID}/.default"])
    check("client credentials for the server API: a token", "access_token" in result, result)
    if "access_token" in result:
        c = claims_of(result["access_token"])
        check("  v2 shape: aud = server client id, iss, azp, roles = app permissions, idtyp app",
              c["aud"] == SERVER_ID and c["iss"] == f"{idp.url}/{TENANT}/v2.0" and c["azp"] == CLIENT_ID
              and c["roles"] == ["Task.Read"] and c["idtyp"] == "app" and "scp" not in c and c["ver"] == "2.0", c)

    result = client.acquire_token_for_client([f"api://{SERVER_ID}/access_as_user"])
    check("client credentials without /.default: invalid_scope AADSTS1002012",
          result.get("error") == "invalid_scope" and 1002012 in result.get("error_codes", []), result)

    wrong = app(idp, SERVER_ID, "not-the-secret")
    result = wrong.acquire_token_for_client(GRAPH_DEFAULT)
    check("wrong secret: invalid_client AADSTS7000215",
          result.get("error") == "invalid_client" and 7000215 in result.get("error_codes", []), result)

    stranger = app(idp, "11111111-2222-4333-8444-555555555555", "whatever")
    result = stranger.acquire_token_for_client(GRAPH_DEFAULT)
    check("unknown client: unauthorized_client AADSTS700016",
          result.get("error") == "unauthorized_client" and 700016 in result.get("error_codes", []), result)

    # --- On-Behalf-Of with the secret
    alice = idp.mint("alice")
    ac = claims_of(alice)
    check("minted user token: v2, aud server, azp client, scp access_as_user, roles Task.All",
          ac["aud"] == SERVER_ID and ac["azp"] == CLIENT_ID and ac["scp"] == "access_as_user"
          and ac["roles"] == ["Task.All"] and ac["ver"] == "2.0", ac)
    result = server.acquire_token_on_behalf_of(alice, GRAPH_DEFAULT)
    check("OBO for alice (secret): a Graph token", "access_token" in result, result)
    if "access_token" in result:
        c = claims_of(result["access_token"])
        check("  v1 Graph token: aud, iss, appid = server, upn alice, scp consented, ver 1.0",
              c["aud"] == "https://graph.microsoft.com" and c["iss"] == f"https://sts.windows.net/{TENANT}/"
              and c["appid"] == SERVER_ID and c["upn"] == "alice@deputy-dev.test"
              and sorted(c["scp"].split()) == ["Sites.Read.All", "User.Read"] and c["ver"] == "1.0"
              and c["oid"] == ac["oid"] and c["appidacr"] == "1", c)
        check("  response scope names the Graph permissions",
              sorted(result.get("scope", "").split()) ==
              ["https://graph.microsoft.com/.default", "https://graph.microsoft.com/Sites.Read.All",
               "https://graph.microsoft.com/User.Read"], result.get("scope"))

    bob = idp.mint("bob")
    result = server.acquire_token_on_behalf_of(bob, ["https://graph.microsoft.com/User.Read"])
    check("OBO for bob with an explicit scope: scp User.Read",
          "access_token" in result and claims_of(result["access_token"]).get("scp") == "User.Read", result)

    result = server.acquire_token_on_behalf_of(idp.mint("bob"), GRAPH_DEFAULT)
    check("OBO for bob with .default: a Graph token (his consent covers him)",
          "access_token" in result and claims_of(result["access_token"]).get("upn") == "bob@deputy-dev.test", result)

    result = server.acquire_token_on_behalf_of(idp.mint("bob"), ["https://graph.microsoft.com/Mail.Read"])
    check("OBO for a scope without consent: invalid_grant AADSTS65001",
          result.get("error") == "invalid_grant" and 65001 in result.get("error_codes", []), result)

    result = server.acquire_token_on_behalf_of(idp.mint("dave"), GRAPH_DEFAULT)
    check("OBO for dave, who never consented to Graph: invalid_grant AADSTS65001 consent_required",
          result.get("error") == "invalid_grant" and 65001 in result.get("error_codes", [])
          and result.get("suberror") == "consent_required", result)

    # --- The last hop: the OBO result at the dev Graph
    import hashlib
    import requests
    site = f"{idp.graph}/v1.0/sites/deputydev.sharepoint.com:/sites/test-site"
    check("deputy idp prints the dev Graph's URL", idp.graph is not None and idp.graph.startswith("https://"), idp.graph)
    requests.delete(f"{idp.graph}/_dev/requests", timeout=10)
    alice_graph = server.acquire_token_on_behalf_of(idp.mint("alice"), GRAPH_DEFAULT).get("access_token", "")
    answer = requests.get(site, headers={"Authorization": f"Bearer {alice_graph}"}, timeout=10)
    check("OBO then Graph: alice reads test-site", answer.status_code == 200
          and answer.json().get("displayName") == "Test Site", answer.text)
    bob_graph = server.acquire_token_on_behalf_of(idp.mint("bob"), GRAPH_DEFAULT).get("access_token", "")
    answer = requests.get(site, headers={"Authorization": f"Bearer {bob_graph}"}, timeout=10)
    check("  bob is refused: 403 accessDenied", answer.status_code == 403
          and answer.json().get("error", {}).get("code") == "accessDenied", answer.text)
    answer = requests.get(site, headers={"Authorization": f"Bearer {alice}"}, timeout=10)
    check("  alice's MCP token passed through: 401 with WWW-Authenticate", answer.status_code == 401
          and answer.headers.get("WWW-Authenticate", "").startswith("Bearer "), answer.status_code)
    log = requests.get(f"{idp.graph}/_dev/requests", timeout=10).json()["requests"]
    check("  the Graph's log: the three requests, tokens by SHA-256 only",
          [entry["status"] for entry in log] == [200, 403, 401]
          and log[0]["token"]["sha256"] == hashlib.sha256(alice_graph.encode()).hexdigest()
          and log[0]["token"]["appid"] == SERVER_ID and alice_graph not in json.dumps(log), log)
    stats = requests.get(f"{idp.url}/_dev/stats", timeout=10).json()
    check("  the provider's stats count alice's on-behalf-of tokens",
          any(e["grant"] == "on_behalf_of" and e["client"] == "server" and e["user"] == "alice" and e["count"] >= 2
              for e in stats["by_client_user"]), stats)

    # --- On-Behalf-Of with the certificate credential
    cert_app = app(idp, SERVER_ID, certificate_credential(idp))
    result = cert_app.acquire_token_on_behalf_of(idp.mint("alice"), GRAPH_DEFAULT)
    check("OBO for alice (certificate): a Graph token with appidacr 2",
          "access_token" in result and claims_of(result["access_token"]).get("appidacr") == "2", result)
    result = cert_app.acquire_token_for_client(GRAPH_DEFAULT)
    check("client credentials (certificate): a token", "access_token" in result, result)

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    impostor = app(idp, SERVER_ID, {"private_key": other_key, "thumbprint": certificate_credential(idp)["thumbprint"]})
    result = impostor.acquire_token_for_client(GRAPH_DEFAULT)
    check("client assertion signed by another key: invalid_client AADSTS700027",
          result.get("error") == "invalid_client" and 700027 in result.get("error_codes", []), result)

    # --- Conditional Access: carol needs MFA for Graph
    result = server.acquire_token_on_behalf_of(idp.mint("carol"), GRAPH_DEFAULT)
    check("OBO for carol: interaction_required AADSTS50076",
          result.get("error") == "interaction_required" and 50076 in result.get("error_codes", []), result)
    claims = json.loads(result.get("claims", "{}"))
    check("  with a claims challenge naming the policy",
          claims.get("access_token", {}).get("capolids", {}).get("essential") is True
          and len(claims["access_token"]["capolids"]["values"]) == 1, result.get("claims"))
    result = server.acquire_token_on_behalf_of(idp.mint("carol", "--mfa"), GRAPH_DEFAULT)
    check("OBO for carol after MFA: a Graph token", "access_token" in result, result)

    # --- Bad assertions
    head, payload, signature = alice.split(".")
    forged_claims = dict(ac, upn="mallory", oid=claims_of(bob)["oid"])
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).decode().rstrip("=")
    result = server.acquire_token_on_behalf_of(f"{head}.{forged_payload}.{signature}", GRAPH_DEFAULT)
    check("forged assertion (payload changed): invalid_grant AADSTS50013",
          result.get("error") == "invalid_grant" and 50013 in result.get("error_codes", []), result)

    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    self_signed = jwt.encode(dict(ac, uti="forged"), own_key, algorithm="RS256",
                             headers={"kid": json.loads(base64.urlsafe_b64decode(head + "=="))["kid"]})
    result = server.acquire_token_on_behalf_of(self_signed, GRAPH_DEFAULT)
    check("assertion signed by another key under our kid: invalid_grant AADSTS50013",
          result.get("error") == "invalid_grant" and 50013 in result.get("error_codes", []), result)

    expired = idp.mint("alice", "--lifetime", "600", "--issued-ago", "7200")
    result = server.acquire_token_on_behalf_of(expired, GRAPH_DEFAULT)
    check("expired assertion: invalid_grant AADSTS500133",
          result.get("error") == "invalid_grant" and 500133 in result.get("error_codes", []), result)

    graph_token = server.acquire_token_on_behalf_of(idp.mint("bob"), GRAPH_DEFAULT).get("access_token")
    result = server.acquire_token_on_behalf_of(graph_token, GRAPH_DEFAULT)
    check("assertion addressed to Graph, not the caller: invalid_grant AADSTS500131",
          result.get("error") == "invalid_grant" and 500131 in result.get("error_codes", []), result)

    app_only = client.acquire_token_for_client([f"api://{SERVER_ID}/.default"]).get("access_token")
    result = server.acquire_token_on_behalf_of(app_only, GRAPH_DEFAULT)
    check("app-only assertion: invalid_grant AADSTS7000114",
          result.get("error") == "invalid_grant" and 7000114 in result.get("error_codes", []), result)

    # --- Authorization code with PKCE (MSAL's auth code flow; the sign-in form posted as a browser would)
    web = app(idp, CLIENT_ID, CLIENT["secrets"][0])
    api_scopes = [f"api://{SERVER_ID}/access_as_user"]
    flow = web.initiate_auth_code_flow(api_scopes, redirect_uri=REDIRECT_URI, login_hint="alice@deputy-dev.test")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(flow["auth_uri"]).query))
    check("auth code flow: MSAL asks with PKCE S256 and a nonce",
          query.get("code_challenge_method") == "S256" and query.get("code_challenge") and query.get("nonce"), query)
    answer = sign_in(flow, "alice@deputy-dev.test", "wrong-password")
    check("  a wrong password shows the page again, no redirect",
          answer.status_code == 200 and "Location" not in answer.headers
          and "password is incorrect" in answer.text, answer.status_code)
    answer = sign_in(flow, "alice@deputy-dev.test", "dev-password-alice")
    location, params = redirect_params(answer)
    check("  the form redirects to the registered URI with a code and the state",
          answer.status_code == 302 and location.startswith(REDIRECT_URI + "?") and params.get("code")
          and params.get("state") == flow["state"], location)
    result = web.acquire_token_by_auth_code_flow(flow, params)
    check("  acquire_token_by_auth_code_flow: access, id and refresh tokens",
          "access_token" in result and "id_token" in result and "refresh_token" in result, result)
    if "access_token" in result:
        c = claims_of(result["access_token"])
        check("  the access token is alice's, for the server API, from the client",
              c["aud"] == SERVER_ID and c["azp"] == CLIENT_ID and c["scp"] == "access_as_user"
              and c["preferred_username"] == "alice@deputy-dev.test" and c["roles"] == ["Task.All"], c)
        check("  the id_token passed MSAL's checks (aud, nonce, exp)",
              result.get("id_token_claims", {}).get("preferred_username") == "alice@deputy-dev.test",
              result.get("id_token_claims"))
        accounts = web.get_accounts()
        check("  MSAL's cache holds alice's account (client_info)",
              len(accounts) == 1 and accounts[0]["username"] == "alice@deputy-dev.test", accounts)
        silent = web.acquire_token_silent(api_scopes, account=accounts[0], force_refresh=True) if accounts else None
        check("  acquire_token_silent through the refresh token: a new access token",
              silent is not None and "access_token" in silent and silent["access_token"] != result["access_token"],
              silent)
        twice = web.acquire_token_silent(api_scopes, account=accounts[0], force_refresh=True) if accounts else None
        check("  and again: MSAL kept the rotated refresh token",
              twice is not None and "access_token" in twice, twice)
        chain = server.acquire_token_on_behalf_of(result["access_token"], GRAPH_DEFAULT)
        check("  the seed's chain: the server exchanges alice's token for Graph",
              "access_token" in chain and claims_of(chain["access_token"]).get("upn") == "alice@deputy-dev.test", chain)
        again = web.acquire_token_by_auth_code_flow(dict(flow), params)
        check("  the same code again: invalid_grant AADSTS54005",
              again.get("error") == "invalid_grant" and 54005 in again.get("error_codes", []), again)

    # --- The sign-in session: a second authorization in the same browser needs no password
    browser = Browser()
    flow = web.initiate_auth_code_flow(api_scopes, redirect_uri=REDIRECT_URI)
    answer = browser.sign_in(flow["auth_uri"], "alice@deputy-dev.test", "dev-password-alice")
    cookie = answer.headers.get("Set-Cookie", "")
    check("sign-in sets the session cookie: HttpOnly, Secure, SameSite=None, the tenant's path",
          cookie.startswith("deputy_idp_session=") and "HttpOnly" in cookie and "Secure" in cookie
          and "SameSite=None" in cookie and f"Path=/{TENANT}" in cookie, cookie)
    web.acquire_token_by_auth_code_flow(flow, redirect_params(answer)[1])
    flow = web.initiate_auth_code_flow(api_scopes, redirect_uri=REDIRECT_URI, prompt="none")
    answer = browser.open(flow["auth_uri"])
    result = web.acquire_token_by_auth_code_flow(flow, redirect_params(answer)[1])
    check("  prompt=none with the cookie: a code at once, and MSAL's tokens for alice",
          answer.status_code == 302 and "access_token" in result
          and claims_of(result["access_token"]).get("preferred_username") == "alice@deputy-dev.test", result)
    flow = web.initiate_auth_code_flow(api_scopes, redirect_uri=REDIRECT_URI, prompt="none")
    result = web.acquire_token_by_auth_code_flow(flow, redirect_params(Browser().open(flow["auth_uri"]))[1])
    check("  prompt=none without it: login_required AADSTS50058",
          result.get("error") == "login_required" and "AADSTS50058" in result.get("error_description", ""), result)
    flow = web.initiate_auth_code_flow(api_scopes, redirect_uri=REDIRECT_URI, prompt="login")
    check("  prompt=login: the password page despite the session", shows(browser.open(flow["auth_uri"]), "password"))

    # --- The account picker
    flow = web.initiate_auth_code_flow(api_scopes, redirect_uri=REDIRECT_URI, prompt="select_account")
    picker = browser.open(flow["auth_uri"])
    check("prompt=select_account: the picker with alice and another account",
          Page(picker.text).accounts == ["alice@deputy-dev.test"] and shows(picker, "other"), picker.text[:300])
    answer = browser.submit(browser.submit(picker, account=""), username="bob@deputy-dev.test",
                            password="dev-password-bob")
    result = web.acquire_token_by_auth_code_flow(flow, redirect_params(answer)[1])
    check("  another account: bob signs in with his password",
          "access_token" in result and claims_of(result["access_token"]).get("preferred_username") == "bob@deputy-dev.test",
          result)
    flow = web.initiate_auth_code_flow(api_scopes, redirect_uri=REDIRECT_URI)
    picker = browser.open(flow["auth_uri"])
    check("  two accounts in the browser: the picker without being asked",
          sorted(Page(picker.text).accounts) == ["alice@deputy-dev.test", "bob@deputy-dev.test"], picker.status_code)
    result = web.acquire_token_by_auth_code_flow(
        flow, redirect_params(browser.submit(picker, account="alice@deputy-dev.test"))[1])
    check("  choosing alice: her tokens, no password",
          "access_token" in result and claims_of(result["access_token"]).get("preferred_username") == "alice@deputy-dev.test",
          result)

    # --- Consent: the client has none for Graph
    graph_scopes = ["https://graph.microsoft.com/User.Read"]
    flow = web.initiate_auth_code_flow(graph_scopes, redirect_uri=REDIRECT_URI)
    consent = Browser().sign_in(flow["auth_uri"], "bob@deputy-dev.test", "dev-password-bob")
    check("consent page for Graph's User.Read (#accept, #cancel)",
          shows(consent, "accept") and shows(consent, "cancel") and 'data-scope="https://graph.microsoft.com/User.Read"'
          in consent.text, consent.status_code)
    elsewhere = Browser().submit(consent, consent="accept")
    check("  the page posted from another browser: refused (400), never redirected",
          elsewhere.status_code == 400 and "Location" not in elsewhere.headers, elsewhere.status_code)
    flow = web.initiate_auth_code_flow(graph_scopes, redirect_uri=REDIRECT_URI)
    consenting = Browser()
    consent = consenting.sign_in(flow["auth_uri"], "bob@deputy-dev.test", "dev-password-bob")
    answer = consenting.submit(consent, consent="cancel")
    result = web.acquire_token_by_auth_code_flow(flow, redirect_params(answer)[1])
    check("  cancel: access_denied AADSTS65004",
          result.get("error") == "access_denied" and "AADSTS65004" in result.get("error_description", ""), result)
    flow = web.initiate_auth_code_flow(graph_scopes, redirect_uri=REDIRECT_URI)
    consent = consenting.open(flow["auth_uri"])
    answer = consenting.submit(consent, consent="accept")
    result = web.acquire_token_by_auth_code_flow(flow, redirect_params(answer)[1])
    check("  accept: a Graph token for bob with scp User.Read",
          "access_token" in result and claims_of(result["access_token"]).get("scp") == "User.Read"
          and claims_of(result["access_token"]).get("upn") == "bob@deputy-dev.test", result)
    flow = web.initiate_auth_code_flow(graph_scopes, redirect_uri=REDIRECT_URI, prompt="none")
    result = web.acquire_token_by_auth_code_flow(flow, redirect_params(consenting.open(flow["auth_uri"]))[1])
    check("  the consent is remembered: prompt=none gets the token", "access_token" in result, result)

    # --- carol: the server's On-Behalf-Of challenges her, she comes back with the claims, the MFA page
    carol = Browser()
    flow = web.initiate_auth_code_flow(api_scopes, redirect_uri=REDIRECT_URI)
    answer = carol.sign_in(flow["auth_uri"], "carol@deputy-dev.test", "dev-password-carol")
    first = web.acquire_token_by_auth_code_flow(flow, redirect_params(answer)[1])
    challenge = server.acquire_token_on_behalf_of(first.get("access_token", ""), GRAPH_DEFAULT)
    check("carol signed in with a password: the OBO answers with a claims challenge",
          challenge.get("error") == "interaction_required" and challenge.get("claims"), challenge)
    flow = web.initiate_auth_code_flow(api_scopes, redirect_uri=REDIRECT_URI, claims_challenge=challenge.get("claims"))
    mfa = carol.open(flow["auth_uri"])
    check("  back at /authorize with the claims: the MFA page (#otp) and its dev hint, no password asked",
          shows(mfa, "otp") and not shows(mfa, "password") and "000000" in mfa.text, mfa.text[:300])
    wrong = carol.submit(mfa, otp="999999")
    check("  a wrong code shows the page again", shows(wrong, "otp") and "Location" not in wrong.headers)
    answer = carol.submit(wrong, otp="000000")
    result = web.acquire_token_by_auth_code_flow(flow, redirect_params(answer)[1])
    check("  the right code: MSAL's tokens carry amr pwd and mfa",
          "access_token" in result and claims_of(result["access_token"]).get("amr") == ["pwd", "mfa"], result)
    chain = server.acquire_token_on_behalf_of(result.get("access_token", ""), GRAPH_DEFAULT)
    check("  and the OBO for Graph passes",
          "access_token" in chain and claims_of(chain["access_token"]).get("upn") == "carol@deputy-dev.test", chain)
    flow = web.initiate_auth_code_flow(api_scopes, redirect_uri=REDIRECT_URI, prompt="none",
                                       claims_challenge=challenge.get("claims"))
    result = web.acquire_token_by_auth_code_flow(flow, redirect_params(carol.open(flow["auth_uri"]))[1])
    check("  the session remembers the MFA: prompt=none with the claims gets a token",
          "access_token" in result and claims_of(result["access_token"]).get("amr") == ["pwd", "mfa"], result)

    flow = web.initiate_auth_code_flow(api_scopes, redirect_uri="https://evil.example/callback")
    import requests
    page = requests.get(flow["auth_uri"], allow_redirects=False, timeout=10)
    check("an unregistered redirect URI: an error page (AADSTS50011), never a redirect",
          page.status_code == 400 and "Location" not in page.headers and "AADSTS50011" in page.text, page.status_code)

    # --- Discovery as MSAL sees it, for a tenant that does not exist
    try:
        msal.ConfidentialClientApplication(SERVER_ID, client_credential="x", authority=f"{idp.url}/no-such-tenant",
                                           instance_discovery=False)
        check("unknown tenant: MSAL refuses the authority", False, "no error")
    except ValueError as error:
        check("unknown tenant: MSAL refuses the authority", "Unable to get authority configuration" in str(error),
              str(error))
    import requests
    answer = requests.get(f"{idp.url}/no-such-tenant/v2.0/.well-known/openid-configuration", timeout=10)
    check("  the discovery answer: 400 invalid_tenant AADSTS90002",
          answer.status_code == 400 and answer.json().get("error") == "invalid_tenant"
          and answer.json().get("error_codes") == [90002], answer.text)

    # --- An authority with a trailing slash: MSAL asks for <authority>//v2.0/.well-known/... (double slash)
    slash = msal.ConfidentialClientApplication(SERVER_ID, client_credential=SERVER["secrets"][0],
                                               authority=f"{idp.url}/{TENANT}/", instance_discovery=False)
    result = slash.acquire_token_for_client(GRAPH_DEFAULT)
    check("authority with a trailing slash (double slash in discovery): a token", "access_token" in result, result)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="deputy-msal-") as state:
        idp = Idp(state)
        os.environ["REQUESTS_CA_BUNDLE"] = idp.ca
        # A proxy from the environment must not be asked for our loopback provider.
        os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
        try:
            main(idp)
        except Exception:
            failed += 1
            traceback.print_exc()
        finally:
            idp.stop()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
