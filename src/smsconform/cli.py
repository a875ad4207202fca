"""The `smsconform` command line."""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

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
        bounds = {name: getattr(args, name) for name in ("request_timeout", "idle_timeout", "max_connections")
                  if getattr(args, name) is not None}   # the ones not given keep the emulator's defaults
        emulator = Emulator(db=db, host=args.host, port=args.port, smpp_port=args.smpp_port, frozen=args.frozen,
                            control_token=args.control_token or None, **bounds)
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
                    workers=None if getattr(args, "workers", None) is None else str(args.workers),
                    select=getattr(args, "select", None), rules=tuple(getattr(args, "rule", None) or ()),
                    tests=tuple(getattr(args, "test", None) or ()), strict=bool(getattr(args, "strict", False)))


def cmd_certify(args: argparse.Namespace) -> int:
    from .reports.certify import certify

    return certify(_suite_run(args), Path(args.reports), max_time=args.max_time).exit_status


def cmd_init_profile(args: argparse.Namespace) -> int:
    from .conformance.profile_template import template

    text = template()
    if args.path == "-":
        sys.stdout.write(text)
        return EXIT_OK
    path = Path(args.path)
    if path.exists() and not args.force:
        print(f"smsconform init-profile: {path} exists (--force overwrites it)", file=sys.stderr)
        return EXIT_USAGE
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}: set the ${{...}} variables, uncomment what the sandbox offers, then "
          f"`smsconform certify --target {path}`")
    return EXIT_OK


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a number of seconds") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError("a positive number of seconds")
    return seconds


def _version() -> str:
    from . import __version__
    from .contracts import load_contracts
    from .reports.suite import suite_dir

    try:
        contracts = load_contracts().version
    except Exception as exc:  # the version must print even where the contracts are broken
        contracts = f"unreadable ({exc.__class__.__name__})"
    return f"smsconform {__version__} (contracts {contracts}; suite {suite_dir()}; Python {sys.version.split()[0]})"


def cmd_record(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .cassettes.record import record

    suite = replace(_suite_run(args), select=None)  # record.py passes -k on as an extra argument
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


class _Version(argparse.Action):
    """--version, computed only when asked (it reads the contracts)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        print(_version())
        parser.exit()


def _positive(kind: type[float] | type[int]) -> "Callable[[str], float]":
    """An argparse type: a finite number above zero (a zero timeout or cap would close every connection, an
    infinite one is no bound)."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not 0 < value < math.inf:
            raise argparse.ArgumentTypeError(f"must be a finite number above 0: {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smsconform", description=__doc__)
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="the version, the contracts' version and where the suite is")
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
    # The HTTP connection bounds (emulator/bounded_http.py; README "Hostile clients" gives the defaults).
    emulator.add_argument("--request-timeout", type=_positive(float), metavar="SECONDS",
                          help="a whole request must arrive within it, else 408 and the connection closes")
    emulator.add_argument("--idle-timeout", type=_positive(float), metavar="SECONDS",
                          help="a kept-alive connection silent this long after its last answer is closed")
    emulator.add_argument("--max-connections", type=_positive(int), metavar="N",
                          help="open HTTP connections; over it a new one closes the longest-idle one "
                          "(default: the descriptor limit less a reserve)")
    emulator.set_defaults(func=cmd_emulator)

    from .reports.deadline import DEFAULT_MAX_TIME

    certify = sub.add_parser(
        "certify", help="run the conformance suite against a target and write the reports",
        description="Run the conformance suite against a target (the embedded emulator, or a TOML profile: "
                    "`smsconform init-profile` writes a commented one) and write junit.xml, results.json "
                    "(rewritten as tests finish) and report.html. Rules the documents state (documented) or public "
                    "integrations show (observed, field-notes.md) decide the verdict; a departure from a rule we only "
                    "inferred is a deviation, listed in the reports and never a failure (--strict judges them too).",
        epilog="exit status: 0 CERTIFIED; 1 NOT CERTIFIED or INCOMPLETE (--max-time was up first); 2 a usage "
               "or target error (a bad profile, a dialect that does not answer). The closing lines say what "
               "would exercise the rules the run could not reach and print a command that reruns the failures.")
    _target_options(certify)
    certify.add_argument("--reports", default="reports", help="where to write junit.xml, results.json and "
                         "report.html (default ./reports)")
    certify.add_argument("-n", dest="workers", type=_workers, default=None,
                         help="pytest-xdist workers (a number or 'auto'); default: one process. Against a real "
                              "sandbox prefer one: tests of one account's credits must not run side by side")
    certify.add_argument("--max-time", type=_seconds, default=DEFAULT_MAX_TIME, metavar="SECONDS",
                         help=f"stop after this long (default {DEFAULT_MAX_TIME:g}): what did not run is not "
                              "exercised (reason `deadline`) and the verdict is INCOMPLETE, never CERTIFIED")
    certify.add_argument("--strict", action="store_true",
                         help="judge inferred rules too: a deviation from one fails the run (profile: strict = true)")
    certify.add_argument("-k", dest="select", metavar="EXPR",
                         help="only the tests whose names match, as pytest -k")
    certify.add_argument("--rule", action="append", metavar="ID",
                         help="only the tests that name this rule (repeatable), e.g. code:mensagem.send.97")
    certify.add_argument("--test", action="append", metavar="NODEID",
                         help="only this test (repeatable), as the reports name it: tests/conformance/test_x.py::name")
    certify.set_defaults(func=cmd_certify)

    init = sub.add_parser("init-profile", help="write a commented target profile with every key and fixture, "
                          "and what each unlocks")
    init.add_argument("path", nargs="?", default="sandbox.toml", metavar="PATH",
                      help="where to write it (default ./sandbox.toml; - for standard output)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(func=cmd_init_profile)

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
