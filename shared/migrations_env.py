"""The Alembic environment of every service: its own tables plus outbox, inbox, dead letters.

Each service's ``migrations/env.py`` only calls :func:`run`.
"""

from __future__ import annotations

from alembic import context
from flask import current_app

from .messaging import MessagingBase


def run() -> None:
    migrate = current_app.extensions["migrate"]
    metadata = [migrate.db.metadata, MessagingBase.metadata]
    engine = migrate.db.engine
    if context.is_offline_mode():
        context.configure(url=engine.url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def skip_empty_revision(_context, _revision, directives):
        if getattr(context.config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []

    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            process_revision_directives=skip_empty_revision,
            **migrate.configure_args,
        )
        with context.begin_transaction():
            context.run_migrations()
