#!/usr/bin/python3
"""The seed's client stack, signing a user in: real MSAL (Debian's python3-msal) with the seed client's
ConfidentialClientApplication, through the development identity provider's pages driven as a browser would.

    REQUESTS_CA_BUNDLE=<state>/ca.pem /usr/bin/python3 msal_sign_in.py [--claims BASE64] [--otp CODE] \
        AUTHORITY CLIENT_ID CLIENT_SECRET REDIRECT_URI SCOPE USERNAME PASSWORD

initiate_auth_code_flow (PKCE; with --claims, the claims of a resource's challenge as MSAL's claims_challenge)
→ GET the auth_uri with a cookie-keeping requests.Session → POST the sign-in form (its hidden fields, csrf among
them, plus username and password; docs/devidp-sign-in.md) → with --otp, POST the MFA page's otp → follow the
provider's own redirects until one goes to REDIRECT_URI → acquire_token_by_auth_code_flow with its query.
Any other page (consent, a second sign-in, an error) is a failure.
Prints the access token, and nothing else, on stdout; on any failure prints why on stderr (never a token) and
exits 1. Called by sdk-client-tier2.test.mjs, which hands the token to the official TypeScript SDK client.
"""

import base64
import html.parser
import sys
import urllib.parse

import msal
import requests

# Pages and redirects walked before the redirect to the client (sign-in, MFA, the provider's own redirects): a bound.
MAX_STEPS = 8
# Seconds per HTTP request to the provider (loopback).
HTTP_TIMEOUT = 10


class Form(html.parser.HTMLParser):
    """The page's form as a browser sees it: its action and its hidden inputs (the one-time csrf token)."""

    def __init__(self, text):
        super().__init__()
        self.action = None
        self.fields = {}
        self.ids = set()
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "form" and self.action is None:
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value", "")


def fail(why):
    print(f"msal_sign_in: {why}", file=sys.stderr)
    sys.exit(1)


def main():
    args = sys.argv[1:]
    claims = None
    otp = None
    while args and args[0].startswith("--"):
        if args[0] == "--claims" and len(args) > 1:
            claims = base64.b64decode(args[1]).decode("utf-8")  # the server's challenge, as MSAL wants it: JSON
        elif args[0] == "--otp" and len(args) > 1:
            otp = args[1]
        else:
            fail(f"unknown option {args[0]}")
        args = args[2:]
    if len(args) != 7:
        fail("usage: msal_sign_in.py [--claims BASE64] [--otp CODE] AUTHORITY CLIENT_ID CLIENT_SECRET REDIRECT_URI "
             "SCOPE USERNAME PASSWORD")
    authority, client_id, secret, redirect_uri, scope, username, password = args

    # As the seed's client builds it, plus what a non-Microsoft authority needs: no instance discovery.
    app = msal.ConfidentialClientApplication(
        client_id=client_id, client_credential=secret, authority=authority, instance_discovery=False)
    flow = app.initiate_auth_code_flow([scope], redirect_uri=redirect_uri, claims_challenge=claims)

    browser = requests.Session()
    answer = browser.get(flow["auth_uri"], allow_redirects=False, timeout=HTTP_TIMEOUT)
    pages = []
    location = None
    for _ in range(MAX_STEPS):
        target = answer.headers.get("Location", "")
        if answer.status_code in (301, 302, 303, 307, 308) and target:
            target = urllib.parse.urljoin(answer.url, target)
            if target.startswith(redirect_uri + "?"):
                location = target
                break
            answer = browser.get(target, allow_redirects=False, timeout=HTTP_TIMEOUT)
            continue
        if answer.status_code != 200:
            fail(f"the provider answered HTTP {answer.status_code} after {pages}")
        form = Form(answer.text)
        if not form.action or "csrf" not in form.fields:
            fail(f"a page without a form or csrf field after {pages} (ids: {sorted(form.ids)})")
        data = dict(form.fields)
        if "username" in form.ids and "password" in form.ids and "sign-in" not in pages:
            pages.append("sign-in")
            data.update(username=username, password=password)
        elif "otp" in form.ids and otp is not None and "mfa" not in pages:
            pages.append("mfa")
            data.update(otp=otp)
        else:
            fail(f"an unexpected page after {pages} (ids: {sorted(form.ids)})")
        answer = browser.post(urllib.parse.urljoin(answer.url, form.action), data=data, allow_redirects=False,
                              timeout=HTTP_TIMEOUT)
    if location is None:
        fail(f"no redirect to {redirect_uri} within {MAX_STEPS} steps ({pages})")

    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    if "code" not in params:
        fail(f"the redirect carries no code: error={params.get('error')} {params.get('error_description')}")
    result = app.acquire_token_by_auth_code_flow(flow, params)
    if "access_token" not in result:
        fail(f"acquire_token_by_auth_code_flow: {result.get('error')} {result.get('error_description')}")
    print(result["access_token"])


if __name__ == "__main__":
    main()
