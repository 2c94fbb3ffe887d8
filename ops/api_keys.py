"""Issue, list and revoke merchant API keys (`paygate.api_keys`). A new key is printed once:
only its SHA-256 is stored, so a lost key is revoked and replaced, never recovered.

    python -m ops.api_keys --table <ApiKeysTableName> issue --scope payments:write \\
        --scope payments:read --label shop-backend
    python -m ops.api_keys --table <ApiKeysTableName> list
    python -m ops.api_keys --table <ApiKeysTableName> revoke <key id>
    python -m ops.api_keys --table <ApiKeysTableName> import --scope ... < key.txt
    python -m ops.api_keys --local issue ...     # the local runtime's table (make run)

`import` stores a key chosen elsewhere (an API Gateway usage-plan key being moved over), read
from standard input. API Gateway caches the authorizer's answer for a key for up to 5 minutes
(template.yaml, `ReauthorizeEvery`): a revocation takes effect within that time."""

from __future__ import annotations

import json
import sys

from ops import cli
from paygate import clock
from paygate.api_keys import ALL_SCOPES, Scope, imported_key, new_key
from paygate.repository import ApiKeyRepository


def _scopes(given: list[str] | None) -> frozenset[Scope]:
    return frozenset(Scope(scope) for scope in given) if given else ALL_SCOPES


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser("Merchant API keys: issue, list, revoke")
    parser.add_argument("--table", help="the stack's ApiKeysTableName output")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("issue", "import"):
        command = commands.add_parser(name)
        command.add_argument(
            "--scope",
            action="append",
            choices=[scope.value for scope in Scope],
            help="repeat for several; none: every scope",
        )
        command.add_argument("--label", default="", help="whose key (shown by list)")
    commands.add_parser("list")
    revoke = commands.add_parser("revoke")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)
    if not (args.local or args.table):
        parser.error("give --table <ApiKeysTableName>, or --local")
    keys = ApiKeyRepository(cli.local_table("ApiKeysTable") if args.local else args.table)
    if args.command == "issue":
        key, record = new_key(_scopes(args.scope), args.label, clock.now())
        keys.put_api_key(record)
        print(json.dumps({"key_id": record.key_id, "scopes": sorted(record.scopes)}))
        print(f"{key}\n(shown once: store it in the merchant backend's secrets now)")
    elif args.command == "import":
        value = sys.stdin.read().strip()
        record = imported_key(value, _scopes(args.scope), args.label, clock.now())
        keys.put_api_key(record)
        print(json.dumps({"key_id": record.key_id, "scopes": sorted(record.scopes)}))
    elif args.command == "list":
        for record in keys.api_keys():
            print(record.model_dump_json(exclude={"secret_sha256"}))
    elif not keys.revoke_api_key(args.key_id, clock.now()):
        print(f"no key with id {args.key_id}", file=sys.stderr)
        return 1
    else:
        print(json.dumps({"key_id": args.key_id, "revoked": True}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
