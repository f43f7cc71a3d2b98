"""The sync engine: configuration, state store, durable queue, poll cursors, webhook receiver.

Submodules are imported on demand (``jirabridge.sync.config``, ``.store``, ``.queue``,
``.cursor``, ``.webhooks``, ``.secrets``, ``.engine``) so that importing ``jirabridge.sync``
stays cheap.
"""

__all__: list[str] = []
