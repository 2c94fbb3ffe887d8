"""Upload the operator console to a stack deployed with ConsoleHosting=enabled: its static
files (local/merchant/console/ and the shared/ files it loads) go to the stack's private
`ConsoleBucketName` bucket, served by CloudFront at `ConsoleUrl` with the security headers of
the template's ConsoleResponseHeaders policy.

The uploaded index.html is configured for the deployment: the console calls the API on its own
origin under /v1/ (CloudFront's /v1/* behaviour) instead of the local merchant proxy, and signs
operators in on the user pool's hosted UI (`OperatorSignInDomain`, app client
`OperatorConsoleClientId`) instead of the local runtime's sign-in route.

    python -m ops.upload_console --stack paygate-prod [--region ap-southeast-1] [--dry-run]

Then open the stack's `ConsoleUrl` output. The files are uploaded with `Cache-Control:
no-cache` (CloudFront revalidates them), so a new upload needs no invalidation."""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONSOLE = ROOT / "local" / "merchant" / "console"
SHARED = ROOT / "local" / "merchant" / "shared"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Deployment:
    """The stack outputs the console needs."""

    bucket: str
    sign_in_domain: str
    client_id: str


def configured_index(html: str, deployment: Deployment) -> str:
    """The console's index.html for `deployment`: the API under /v1 on the same origin, the
    hosted UI instead of the local sign-in route."""
    proxy = '<meta name="paygate-merchant-proxy" content="/merchant">'
    local_sign_in = re.compile(r'\s*<meta name="paygate-sign-in" content="[^"]*">')
    if proxy not in html or not local_sign_in.search(html):
        raise ValueError("index.html has no paygate-merchant-proxy / paygate-sign-in meta tags")
    hosted = (
        f'<meta name="paygate-merchant-proxy" content="/v1">\n'
        f'  <meta name="paygate-hosted-ui" content="{deployment.sign_in_domain}">\n'
        f'  <meta name="paygate-client-id" content="{deployment.client_id}">'
    )
    return local_sign_in.sub("", html).replace(proxy, hosted)


def files(deployment: Deployment) -> list[tuple[str, bytes, str]]:
    """(key, body, content type) of every file to upload."""
    found = []
    for folder in (CONSOLE, SHARED):
        for path in sorted(folder.iterdir()):
            if path.suffix not in CONTENT_TYPES:
                continue
            body = path.read_bytes()
            if folder is CONSOLE and path.name == "index.html":
                body = configured_index(body.decode(), deployment).encode()
            found.append((f"{folder.name}/{path.name}", body, CONTENT_TYPES[path.suffix]))
    return found


def stack_deployment(cloudformation: Any, stack: str) -> Deployment:
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = {"ConsoleBucketName", "OperatorSignInDomain", "OperatorConsoleClientId"} - set(
        outputs
    )
    if missing:
        raise SystemExit(
            f"stack {stack} has no {sorted(missing)} output: deploy it with "
            "--parameter-overrides ConsoleHosting=enabled first"
        )
    return Deployment(
        outputs["ConsoleBucketName"],
        outputs["OperatorSignInDomain"],
        outputs["OperatorConsoleClientId"],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="the deployed stack's name")
    parser.add_argument("--region", default=None)
    parser.add_argument("--dry-run", action="store_true", help="list what would be uploaded")
    args = parser.parse_args(argv)

    import boto3

    session = boto3.Session(region_name=args.region)
    deployment = stack_deployment(session.client("cloudformation"), args.stack)
    s3 = session.client("s3")
    for key, body, content_type in files(deployment):
        print(f"{'would upload' if args.dry_run else 'upload'} s3://{deployment.bucket}/{key}")
        if not args.dry_run:
            s3.put_object(
                Bucket=deployment.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                CacheControl="no-cache",
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
