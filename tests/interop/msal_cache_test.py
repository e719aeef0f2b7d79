#!/usr/bin/python3
"""deputy's token cache and real MSAL (Debian's python3-msal 1.21) read each other.

Starts `deputy idp --state <tmp> --port 0`, signs alice in with `deputy login --username/--password`, then
MSAL's ConfidentialClientApplication (instance_discovery=False, the same authority, client and cache file):
finds the account, gets deputy's cached access token from acquire_token_silent, and redeems deputy's refresh
token with force_refresh. MSAL's serialized cache then goes back to `deputy whoami --json`, which must see
alice with MSAL's renewed token.

Run: /usr/bin/python3 tests/interop/msal_cache_test.py [path/to/deputy]   (default: build/release/deputy)
"""

import json
import os
import subprocess
import sys
import tempfile

import msal

TENANT = "b22dd19b-fad0-4513-a43e-46a8cb3ca698"
CLIENT = "37d1e7dc-e348-4df1-80dc-69156bdc1273"
SECRET = "dev-client-secret-not-for-production"
SCOPE = "api://d894da85-e1f8-4202-b8d8-bbfc24cbe604/access_as_user"


def main() -> int:
    deputy = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/release/deputy")
    with tempfile.TemporaryDirectory(prefix="deputy-msal-cache-") as work:
        state = os.path.join(work, "state")
        idp = subprocess.Popen([deputy, "idp", "--port", "0", "--state", state],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            authority = None
            for line in idp.stdout:  # bounded: the process ends (and the pipe closes) if it fails to start
                if line.startswith("listening on "):
                    authority = line[len("listening on "):].strip().rstrip("/")
                    break
            if authority is None:
                print("FAIL: deputy idp did not start")
                return 1
            ca = os.path.join(state, "ca.pem")
            ours = os.path.join(work, "cache", "msal_cache.json")
            env = dict(os.environ, AUTHORITY=authority, DEPUTY_CA_FILE=ca, MSAL_CACHE_PATH=ours)
            subprocess.run([deputy, "login", "--username", "alice@deputy-dev.test",
                            "--password", "dev-password-alice"], env=env, check=True, cwd=work,
                           stdout=subprocess.DEVNULL, timeout=60)
            with open(ours) as f:
                cached = json.load(f)
            our_token = next(iter(cached["AccessToken"].values()))["secret"]

            os.environ["REQUESTS_CA_BUNDLE"] = ca
            cache = msal.SerializableTokenCache()
            with open(ours) as f:
                cache.deserialize(f.read())
            app = msal.ConfidentialClientApplication(
                CLIENT, client_credential=SECRET, authority=f"{authority}/{TENANT}", token_cache=cache,
                instance_discovery=False)
            failures = []

            def check(name, ok, detail=""):
                print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""))
                if not ok:
                    failures.append(name)

            accounts = app.get_accounts()
            check("MSAL finds deputy's account", [a["username"] for a in accounts] == ["alice@deputy-dev.test"],
                  repr(accounts))
            if not accounts:
                return 1
            silent = app.acquire_token_silent([SCOPE], account=accounts[0]) or {}
            check("MSAL serves deputy's cached access token", silent.get("access_token") == our_token,
                  str(silent.get("error")))
            renewed = app.acquire_token_silent([SCOPE], account=accounts[0], force_refresh=True) or {}
            check("MSAL redeems deputy's refresh token", "access_token" in renewed and
                  renewed["access_token"] != our_token, str(renewed.get("error_description")))

            theirs = os.path.join(work, "msal.json")
            with open(theirs, "w") as f:
                f.write(cache.serialize())
            whoami = subprocess.run([deputy, "whoami", "--json"], env=dict(env, MSAL_CACHE_PATH=theirs),
                                    capture_output=True, text=True, cwd=work, timeout=60)
            check("deputy whoami reads MSAL's cache", whoami.returncode == 0, whoami.stderr)
            if whoami.returncode == 0:
                status = json.loads(whoami.stdout)
                check("... and sees alice", status.get("username") == "alice@deputy-dev.test", whoami.stdout)
                check("... with MSAL's renewed token", status.get("access_token_expires_on", 0) > 0 and
                      status.get("refresh_token") is True, whoami.stdout)
            print(f"{6 - len(failures)} passed, {len(failures)} failed")
            return 1 if failures else 0
        finally:
            idp.terminate()
            idp.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
