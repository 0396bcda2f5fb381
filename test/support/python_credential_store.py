"""
The file-handling half of google_workspace_mcp's LocalDirectoryCredentialStore, without google-auth
(PyPI is not reachable from CI). It reads and writes credential files exactly as the Python server
does: json.dump(indent=2), naive-UTC datetime.isoformat() expiry parsed back with
datetime.fromisoformat, and quote(email, safe="@._-") + ".json" as the file name.

Used by test/stores/python-interop.test.ts to prove files cross between the two servers unchanged.

  python3 python_credential_store.py quote <email>...
  python3 python_credential_store.py write <dir> <email> <json fields>
  python3 python_credential_store.py read <dir> <email>
"""
import json
import os
import sys
from datetime import datetime, timedelta
from urllib.parse import quote


def credential_path(base_dir, user_email):
    return os.path.join(base_dir, quote(user_email, safe="@._-") + ".json")


def write(base_dir, user_email, fields):
    expiry = None
    if fields.get("expiry_epoch_us") is not None:
        expiry = datetime(1970, 1, 1) + timedelta(microseconds=fields["expiry_epoch_us"])
    creds_data = {
        "token": fields.get("token"),
        "refresh_token": fields.get("refresh_token"),
        "token_uri": fields.get("token_uri"),
        "client_id": fields.get("client_id"),
        "client_secret": fields.get("client_secret"),
        "scopes": fields.get("scopes"),
        "expiry": expiry.isoformat() if expiry else None,
    }
    fd = os.open(credential_path(base_dir, user_email), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(creds_data, f, indent=2)


def read(base_dir, user_email):
    with open(credential_path(base_dir, user_email), "r") as f:
        creds_data = json.load(f)
    expiry = None
    if creds_data.get("expiry"):
        expiry = datetime.fromisoformat(creds_data["expiry"])
        if expiry.tzinfo is not None:
            expiry = expiry.replace(tzinfo=None)
    loaded = {
        "token": creds_data.get("token"),
        "refresh_token": creds_data.get("refresh_token"),
        "token_uri": creds_data.get("token_uri"),
        "client_id": creds_data.get("client_id"),
        "client_secret": creds_data.get("client_secret"),
        "scopes": creds_data.get("scopes"),
        "expiry_epoch_us": None
        if expiry is None
        else (expiry - datetime(1970, 1, 1)) // timedelta(microseconds=1),
    }
    print(json.dumps(loaded))


def main():
    command = sys.argv[1]
    if command == "quote":
        print(json.dumps([quote(email, safe="@._-") for email in sys.argv[2:]]))
    elif command == "write":
        write(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))
    elif command == "read":
        read(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit("unknown command " + command)


if __name__ == "__main__":
    main()
