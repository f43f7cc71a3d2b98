"""The webhook receiver and the parser of both flavours' webhook bodies."""

from jirabridge.sync.webhooks._app import (
    ReceiverSite,
    create_receiver,
    immediate_fields,
    sites_from_config,
)
from jirabridge.sync.webhooks._parse import IGNORED_EVENTS, ParsedWebhook, actor_ids, parse_webhook

__all__ = [
    "IGNORED_EVENTS",
    "ParsedWebhook",
    "ReceiverSite",
    "actor_ids",
    "create_receiver",
    "immediate_fields",
    "parse_webhook",
    "sites_from_config",
]
