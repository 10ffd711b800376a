"""The database errors the service tells apart, without knowing the driver or SQLAlchemy."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

# the database server is gone (or going): the request may succeed if tried again shortly
UNREACHABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
# a write broke a unique or foreign key (e.g. two nodes seeding one database at the same moment)
DuplicateRow = IntegrityError
