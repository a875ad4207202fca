"""The `smsconform` command line."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from .reports.runner import SuiteRun

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
    try:
        emulator = Emulator(db=db, host=args.host, port=args.port, smpp_port=args.smpp_port, frozen=args.frozen,
                            control_token=args.control_token or None)
    except ValueError as exc:  # a control token that cannot travel in a header
        print(f"smsconform emulator: {exc}", file=sys.stderr)
        return EXIT_USAGE
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


def _suite_run(args: argparse.Namespace) -> "SuiteRun":
    from .reports.runner import SuiteRun

    return SuiteRun(target=args.target, dialects=tuple(args.dialect or ()),
                    hypothesis_profile=getattr(args, "hypothesis_profile", None),
                    workers=None if getattr(args, "workers", None) is None else str(args.workers))


def cmd_certify(args: argparse.Namespace) -> int:
    from .reports.certify import certify

    return certify(_suite_run(args), Path(args.reports)).exit_status


def cmd_record(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .cassettes.record import record

    suite = _suite_run(args)
    if args.select:
        suite = replace(suite, extra=("-k", args.select))
    return record(suite, Path(args.cassettes))


def cmd_verify_cassettes(args: argparse.Namespace) -> int:
    from .cassettes.verify import main as verify_main

    return verify_main([Path(d) for d in args.dirs], show_known=args.show_known)


def _workers(value: str) -> str:
    if value != "auto" and not value.isdigit():
        raise argparse.ArgumentTypeError("a number of workers or 'auto'")
    return value


def _target_options(parser: argparse.ArgumentParser) -> None:
    from .contracts import DIALECTS

    parser.add_argument("--target", default="emulator",
                        help="a target profile (TOML) or 'emulator', the embedded emulator (default)")
    parser.add_argument("--dialect", action="append", choices=DIALECTS, metavar="D",
                        help=f"only this dialect (repeatable; one of {', '.join(DIALECTS)}); default: all")
    parser.add_argument("--hypothesis-profile", choices=("ci", "thorough"), default=None,
                        help="ci: derandomized and quick (default); thorough: many more examples")


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
    emulator.add_argument("--control-token", default=os.environ.get("SMSCONFORM_CONTROL_TOKEN"),
                          help="the control API then answers only requests carrying it in X-Emulator-Token "
                          "(default: $SMSCONFORM_CONTROL_TOKEN; none on loopback)")
    emulator.set_defaults(func=cmd_emulator)

    certify = sub.add_parser("certify", help="run the conformance suite against a target and write the reports")
    _target_options(certify)
    certify.add_argument("--reports", default="reports", help="where to write junit.xml, results.json and "
                         "report.html (default ./reports)")
    certify.add_argument("-n", dest="workers", type=_workers, default=None,
                         help="pytest-xdist workers (a number or 'auto'); default: one process")
    certify.set_defaults(func=cmd_certify)

    record = sub.add_parser("record", help="run the suite and keep its HTTP exchanges as vcrpy cassettes, "
                            "credentials replaced by placeholders")
    _target_options(record)
    record.add_argument("--cassettes", default="cassettes",
                        help="cassette root; exchanges go to <root>/<target>/<dialect>/ (default ./cassettes)")
    record.add_argument("-k", dest="select", metavar="EXPR",
                        help="record only the tests whose names match (pytest -k); default: the whole suite")
    record.set_defaults(func=cmd_record)

    verify = sub.add_parser("verify-cassettes", help="re-check recorded exchanges offline against today's contracts")
    verify.add_argument("dirs", nargs="*", default=["cassettes"], metavar="DIR",
                        help="cassette files or directories (default ./cassettes)")
    verify.add_argument("--show-known", action="store_true",
                        help="also list the differences the catalog records as known contradictions")
    verify.set_defaults(func=cmd_verify_cassettes)
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
