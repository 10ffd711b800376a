"""`lutra admin create-user` and `lutra admin reset-password`: operator commands that work directly on the
database under DATA_DIR (the way back in when the only admin forgot the password)."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
import time
import uuid

from actors.store.repos import audit, keys, roles, sessions, teams, users


def register(subparsers) -> None:
    admin = subparsers.add_parser("admin", help="operator commands on the local database")
    sub = admin.add_subparsers(dest="admin_command", required=True)

    create = sub.add_parser("create-user", help="create an account")
    create.add_argument("username")
    create.add_argument("--role", default="admin", help="role name (default: admin)")
    create.add_argument("--team", default=None, help="team name (default: the default team)")
    _password_options(create)
    create.set_defaults(func=create_user_command)

    reset = sub.add_parser("reset-password", help="set a new password; ends the user's sessions and API keys")
    reset.add_argument("username")
    reset.add_argument("--no-must-change", action="store_true",
                       help="do not ask for a new password at the next login")
    reset.add_argument("--enable", action="store_true", help="also re-enable a disabled account")
    _password_options(reset)
    reset.set_defaults(func=reset_password_command)


def _password_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    group.add_argument("--generate", action="store_true", help="generate a random password and print it once")


class CliError(Exception):
    pass


def _read_password(args: argparse.Namespace) -> tuple[str, bool]:
    """(password, generated). Never taken from the command line: it would land in shell history and ps."""
    if args.generate:
        return secrets.token_urlsafe(15), True
    if args.password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Repeat: ") != password:
            raise CliError("the passwords do not match")
    if len(password) < 8:
        raise CliError("the password must have at least 8 characters")
    if len(password) > 1024:
        raise CliError("the password is too long")
    return password, False


def _engine():
    from actors.store.actor import make_engine, migrate
    from service.config import Config

    config = Config.from_env()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(config.db_url)
    migrate(engine)
    return engine


def create_user(engine, username: str, password: str, role: str = "admin", team: str | None = None,
                must_change: bool = False) -> str:
    from service.auth import USERNAME, hash_password, seed_roles_and_team

    if not USERNAME.match(username):
        raise CliError("usernames use letters, digits and . _ @ + - only")
    password_hash = hash_password(password)
    with engine.begin() as conn:
        default_team = seed_roles_and_team(conn)
        if not roles.exists(conn, role):
            raise CliError(f"no such role: {role}")
        if users.name_taken(conn, username):
            raise CliError(f"the username {username!r} is taken")
        team_id = default_team
        if team is not None:
            found = teams.by_name(conn, team)
            if found is None:
                raise CliError(f"no such team: {team}")
            team_id = found.id
        user_id = str(uuid.uuid4())
        now = time.time()
        users.create(conn, id=user_id, username=username, password_hash=password_hash, role=role, team_id=team_id,
                     must_change_password=must_change, disabled=False, created_at=now, updated_at=now)
        _audit(conn, "USER_CREATED", username, {"userId": user_id, "role": role, "via": "cli"})
    return user_id


def reset_password(engine, username: str, password: str, must_change: bool = True, enable: bool = False) -> int:
    """Returns how many API keys were revoked."""
    from service.auth import hash_password

    password_hash = hash_password(password)
    with engine.begin() as conn:
        row = users.by_name(conn, username)
        if row is None:
            raise CliError(f"no such user: {username}")
        values = {"password_hash": password_hash, "must_change_password": must_change, "updated_at": time.time()}
        if enable:
            values["disabled"] = False
        users.change(conn, row.id, **values)
        sessions.end_all(conn, row.id)
        revoked = keys.revoke_all(conn, row.id)
        _audit(conn, "PASSWORD_RESET", username, {"userId": row.id, "apiKeysRevoked": revoked, "via": "cli"})
    return revoked


def _audit(conn, action: str, target: str, details: dict) -> None:
    audit.append(conn, {"at": time.time(), "action": action, "actor_id": None, "actor_name": "cli",
                        "target": target, "ip": None, "details": details})


def create_user_command(args: argparse.Namespace) -> None:
    try:
        password, generated = _read_password(args)
        create_user(_engine(), args.username, password, args.role, args.team, must_change=generated)
    except CliError as err:
        raise SystemExit(f"lutra admin create-user: {err}") from None
    print(f"created {args.username} (role {args.role})", file=sys.stderr)
    if generated:
        print(password)  # shown once; must be changed at first login


def reset_password_command(args: argparse.Namespace) -> None:
    try:
        password, generated = _read_password(args)
        keys = reset_password(_engine(), args.username, password, must_change=generated or not args.no_must_change,
                              enable=args.enable)
    except CliError as err:
        raise SystemExit(f"lutra admin reset-password: {err}") from None
    print(f"password of {args.username} reset; sessions ended; {keys} API key(s) revoked "
          "(a running server forgets cached sessions within seconds)", file=sys.stderr)
    if generated:
        print(password)
