"""The sync engine: configuration, state store, durable queue, poll cursors, webhook
receiver, and the apply step between a Jira Server/DC site and a Jira Cloud site.

Modules (imported on demand, so ``import jirabridge.sync`` stays cheap):

- ``config``: the YAML file's pydantic model, loader with line numbers, JSON schema, reload
- ``secrets``: credential references and the encrypted (Fernet) credential store
- ``store``: SQLAlchemy 2 tables and Alembic migrations (SQLite or PostgreSQL)
- ``notices``, ``queue``: change notices and the durable per-issue-pair queue with its DLQ
- ``cursor``: poll cursors that never skip a change (pure)
- ``webhooks``: webhook parsing (both flavours) and the Starlette receiver
- ``diff``, ``pairs``, ``apply``: three-way field diff, pair bookkeeping, the apply step
- ``engine``, ``runner``, ``check``, ``state``: client protocol and poller, the runner,
  live configuration checks, status queries
"""

__all__: list[str] = []
