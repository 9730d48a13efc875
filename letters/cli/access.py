"""Commands for access: API tokens for upstream systems and debtors' logins."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from letters.cli.console import (
    BAD_INPUT,
    FAILED,
    OK,
    by_argument,
    err,
    ledger_to_read,
    open_ledger,
    out,
    said,
)
from letters.codes import Code


def cmd_token(args: argparse.Namespace) -> int:
    from letters.ledger import create_token, revoke_token

    found = open_ledger() if args.action == "create" else ledger_to_read()
    if found is None:
        return BAD_INPUT
    ledger = found
    if args.action == "create":
        scopes = {s.strip() for s in args.scopes.split(",") if s.strip()}
        try:
            token = create_token(ledger, args.name, scopes, by=args.by)
        except ValueError as exc:
            err.print(str(exc), markup=False)
            return BAD_INPUT
        except Exception:
            err.print(f"a token named {args.name!r} exists already", markup=False)
            return BAD_INPUT
        if args.json:
            made = {"name": args.name, "scopes": sorted(scopes), "token": token}
            out.print_json(json.dumps(made))
        else:
            out.print(token, markup=False)
        err.print("shown once: only its SHA-256 is stored", markup=False)
        return OK
    if revoke_token(ledger, args.name, by=args.by):
        if args.json:
            out.print_json(json.dumps({"name": args.name, "revoked": True}))
        else:
            out.print(f"token {args.name!r} revoked", markup=False)
        return OK
    err.print(f"no live token named {args.name!r}", markup=False)
    return BAD_INPUT


def cmd_credentials(args: argparse.Namespace) -> int:
    import getpass

    from letters import clock
    from letters.credentials import Verdict
    from letters.ledger import LedgerAttemptLog, LedgerCredentials
    from letters.lockout import LOCAL, attempt
    from letters.numbers import reference

    if not reference.is_valid(args.reference):  # the same answer as hold and release give
        err.print(
            f"{args.reference!r} is not a valid case reference [{Code.BAD_REFERENCE}]",
            markup=False,
        )
        return BAD_INPUT
    password = args.password
    if password in (None, "-"):
        password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline()
    ledger = ledger_to_read()
    if ledger is None:
        return BAD_INPUT
    answer = attempt(
        LedgerCredentials(ledger),
        LedgerAttemptLog(ledger),
        args.reference,
        password.strip(),
        clock.current(),
        source=LOCAL,
    )
    if args.json:
        report = {"result": str(answer.verdict), "retry_after": answer.retry_after}
        out.print_json(json.dumps(report))
        return OK if answer.verdict is Verdict.VALID else FAILED
    out.print(str(answer.verdict), markup=False)
    if answer.retry_after is not None:
        err.print(f"too many failed logins here: try again in {answer.retry_after} s", markup=False)
    return OK if answer.verdict is Verdict.VALID else FAILED


def register(sub: Any) -> None:
    p = sub.add_parser("token", help="create or revoke an HTTP API token")
    p.add_argument("action", choices=["create", "revoke"], help="create a token, or revoke one")
    p.add_argument("name", type=said, help="the token's name: the upstream system it is for")
    p.add_argument(
        "--scopes",
        default="submit,read",
        help="comma-separated: submit, read, pdf (letter PDFs: they carry the password), "
        "hold, close (close cases: their retention runs), verify",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    by_argument(p)
    p.set_defaults(func=cmd_token)
    p = sub.add_parser("credentials", help="check a debtor's login")
    p.add_argument("action", choices=["verify"], help="verify a password")
    p.add_argument("reference", help="the case reference the debtor logs in with")
    p.add_argument(
        "password", nargs="?", help="the password; omit (or -) to type it or read it from stdin"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    p.set_defaults(func=cmd_credentials)
