#!/usr/bin/python3
"""The seed's client stack, signing a user in: real MSAL (Debian's python3-msal) with the seed client's
ConfidentialClientApplication, through the development identity provider's pages driven as a browser would.

    REQUESTS_CA_BUNDLE=<state>/ca.pem /usr/bin/python3 msal_sign_in.py AUTHORITY CLIENT_ID CLIENT_SECRET \
        REDIRECT_URI SCOPE USERNAME PASSWORD

initiate_auth_code_flow (PKCE) → GET the auth_uri with a cookie-keeping requests.Session → POST the sign-in form
(its hidden fields, csrf among them, plus username and password; docs/devidp-sign-in.md) → follow the provider's
own redirects until one goes to REDIRECT_URI → acquire_token_by_auth_code_flow with that redirect's query.
Prints the access token, and nothing else, on stdout; on any failure prints why on stderr (never a token) and
exits 1. Called by sdk-client-tier2.test.mjs, which hands the token to the official TypeScript SDK client.
"""

import html.parser
import sys
import urllib.parse

import msal
import requests

# Redirects followed inside the provider before the one to the client (sign-in → authorize → client): a bound.
MAX_REDIRECTS = 5
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
    if len(sys.argv) != 8:
        fail("usage: msal_sign_in.py AUTHORITY CLIENT_ID CLIENT_SECRET REDIRECT_URI SCOPE USERNAME PASSWORD")
    authority, client_id, secret, redirect_uri, scope, username, password = sys.argv[1:]

    # As the seed's client builds it, plus what a non-Microsoft authority needs: no instance discovery.
    app = msal.ConfidentialClientApplication(
        client_id=client_id, client_credential=secret, authority=authority, instance_discovery=False)
    flow = app.initiate_auth_code_flow([scope], redirect_uri=redirect_uri)

    browser = requests.Session()
    page = browser.get(flow["auth_uri"], allow_redirects=False, timeout=HTTP_TIMEOUT)
    if page.status_code != 200:
        fail(f"the authorization page answered {page.status_code}")
    form = Form(page.text)
    if "username" not in form.ids or "password" not in form.ids or not form.action:
        fail(f"the authorization page is not the sign-in page (ids: {sorted(form.ids)})")
    if "csrf" not in form.fields:
        fail("the sign-in form carries no csrf field")
    data = dict(form.fields)
    data.update(username=username, password=password)
    answer = browser.post(urllib.parse.urljoin(page.url, form.action), data=data, allow_redirects=False,
                          timeout=HTTP_TIMEOUT)

    for _ in range(MAX_REDIRECTS):
        location = answer.headers.get("Location", "")
        if answer.status_code not in (301, 302, 303, 307, 308) or not location:
            fail(f"the sign-in ended with HTTP {answer.status_code} and no redirect "
                 f"(page ids: {sorted(Form(answer.text).ids)})")
        location = urllib.parse.urljoin(answer.url, location)
        if location.startswith(redirect_uri + "?"):
            break
        answer = browser.get(location, allow_redirects=False, timeout=HTTP_TIMEOUT)
    else:
        fail(f"no redirect to {redirect_uri} within {MAX_REDIRECTS} redirects")

    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    if "code" not in params:
        fail(f"the redirect carries no code: error={params.get('error')} {params.get('error_description')}")
    result = app.acquire_token_by_auth_code_flow(flow, params)
    if "access_token" not in result:
        fail(f"acquire_token_by_auth_code_flow: {result.get('error')} {result.get('error_description')}")
    print(result["access_token"])


if __name__ == "__main__":
    main()
