"""Command line: run the development Hub in the foreground (`python -m devhub --port 8800`)."""

import argparse
import contextlib
import logging

from devhub.server import DevHub


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m devhub", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8800, help="port to bind, 0 for a free one (default 8800)"
    )
    parser.add_argument("--data", default="var/devhub", help="data directory (default var/devhub)")
    parser.add_argument("--user", default="devhub-user", help="user name that whoami answers")
    parser.add_argument(
        "--org", action="append", dest="orgs", help="organisation the user belongs to (repeatable)"
    )
    parser.add_argument(
        "--bad-token", action="append", default=[], help="token to answer 401 to (repeatable)"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    hub = DevHub(
        data_dir=args.data,
        host=args.host,
        port=args.port,
        user=args.user,
        organizations=tuple(args.orgs or ["dataset-portal"]),
        bad_tokens=tuple(args.bad_token),
    )
    print(
        f"devhub serving {hub.url} from {args.data}; clients need HF_ENDPOINT={hub.url} HF_HUB_DISABLE_XET=1"
    )
    with contextlib.suppress(KeyboardInterrupt):
        hub.serve_forever()


if __name__ == "__main__":
    main()
