"""The `smsconform` command line."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def default_db() -> Path:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "smsconform" / "emulator.sqlite3"


def cmd_contracts_check(args: argparse.Namespace) -> int:
    from .contracts import ContractError
    from .contracts.check import check_all

    try:
        report = check_all()
    except ContractError as exc:
        print(f"contract error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for line in report.lines():
        print(line)
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_emulator(args: argparse.Namespace) -> int:
    from .emulator.server import Emulator

    db = args.db if args.db == ":memory:" else str(Path(args.db).expanduser())
    emulator = Emulator(db=db, host=args.host, port=args.port, smpp_port=args.smpp_port, frozen=args.frozen)
    if args.seed:
        from .emulator.seeding import seed_file

        seed_file(emulator.core, Path(args.seed))
    main = emulator.core.profile["accounts"]["main"]
    print(f"smsconform emulator: HTTP on http://{args.host}:{args.port}"
          + (f", SMPP on {args.host}:{args.smpp_port}" if args.smpp_port else "")
          + f", state in {db}", flush=True)
    print(f"  demo account: login {main['login']} / password {main['password']}, integration user (u) "
          f"{main.get('integration_user')}, bearer token {main.get('token')}", flush=True)
    print("  control API: /_emulator/ (contracts/openapi/emulator-control.yaml); Ctrl-C stops", flush=True)
    emulator.run()
    print("smsconform emulator: stopped", flush=True)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smsconform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    contracts = sub.add_parser("contracts", help="work with the machine-readable contracts")
    contracts_sub = contracts.add_subparsers(dest="action", required=True)
    check = contracts_sub.add_parser("check", help="load and cross-check every contract file")
    check.set_defaults(func=cmd_contracts_check)

    emulator = sub.add_parser("emulator", help="run the stateful emulator (a fake provider)")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=2738)
    emulator.add_argument("--smpp-port", type=int, default=9500, help="0 turns SMPP off")
    emulator.add_argument("--db", default=str(default_db()), help="SQLite file, or :memory:")
    emulator.add_argument("--seed", help="a YAML file of extra accounts (the profile's format)")
    emulator.add_argument("--frozen", action="store_true", help="time moves only through the control API")
    emulator.set_defaults(func=cmd_emulator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
