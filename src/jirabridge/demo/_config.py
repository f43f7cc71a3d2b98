"""The sync configuration the demo writes into its work directory (YAML, as an admin would).

Secrets never go into the file: the sites' credentials and the webhook secrets are
``env:NAME`` references, and :func:`demo_environment` holds the values the demo process puts
into its own environment for the engine to resolve.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from jirabridge.demo._sites import CLOUD_BOT_EMAIL, PROJECT, SERVER_BOT, DemoSites

__all__ = [
    "CLOUD_SITE",
    "ENV_CLOUD_HOOK",
    "ENV_CLOUD_TOKEN",
    "ENV_SERVER_HOOK",
    "ENV_SERVER_PASSWORD",
    "FAVOURITE_FOOD",
    "PAIR_ID",
    "SERVER_SITE",
    "DemoEndpoints",
    "config_document",
    "write_config",
]

SERVER_SITE = "dc"
CLOUD_SITE = "cloud"
PAIR_ID = "demo"
ENV_SERVER_PASSWORD = "JIRABRIDGE_DEMO_DC_PASSWORD"  # noqa: S105 (a variable name)
ENV_CLOUD_TOKEN = "JIRABRIDGE_DEMO_CLOUD_TOKEN"  # noqa: S105 (a variable name)
ENV_SERVER_HOOK = "JIRABRIDGE_DEMO_DC_WEBHOOK_SECRET"
ENV_CLOUD_HOOK = "JIRABRIDGE_DEMO_CLOUD_WEBHOOK_SECRET"
FAVOURITE_FOOD = ("customfield_10300", "customfield_10067")
"""The seeded "Favorite Food" text field: (Server id, Cloud id)."""


@dataclass(frozen=True)
class DemoEndpoints:
    server_url: str
    cloud_url: str
    receiver_port: int
    store_path: Path


def config_document(sites: DemoSites, endpoints: DemoEndpoints) -> dict[str, Any]:
    """The configuration as plain data (what :func:`write_config` dumps)."""
    return {
        "version": 1,
        "sites": {
            SERVER_SITE: {
                "flavour": "server",
                "url": endpoints.server_url,
                "auth": "basic",
                "username": SERVER_BOT,
                "credential": f"env:{ENV_SERVER_PASSWORD}",
                "integration_user": sites.server_bot_key,
                "webhook_secret": f"env:{ENV_SERVER_HOOK}",
                "max_requests_per_second": 200,
            },
            CLOUD_SITE: {
                "flavour": "cloud",
                "url": endpoints.cloud_url,
                "auth": "api_token",
                "username": CLOUD_BOT_EMAIL,
                "credential": f"env:{ENV_CLOUD_TOKEN}",
                "integration_user": sites.cloud_bot_id,
                "webhook_secret": f"env:{ENV_CLOUD_HOOK}",
                "max_requests_per_second": 200,
            },
        },
        "store": {"url": f"sqlite:///{endpoints.store_path}"},
        # webhooks bring changes at once; a short poll catches any lost delivery
        "polling": {"interval_seconds": 2, "overlap_seconds": 60},
        # no coalescing delay: SyncRunner.drain() stops when no job is due yet, so a delay
        # would end the backfill early (reported to SYNC)
        "queue": {"workers": 4, "coalesce_seconds": 0, "backoff_base_seconds": 0.5},
        "webhooks": {"host": "127.0.0.1", "port": endpoints.receiver_port},
        "pairs": [
            {
                "id": PAIR_ID,
                "server": {"site": SERVER_SITE, "project": PROJECT},
                "cloud": {"site": CLOUD_SITE, "project": PROJECT},
                "create": "both",
                "fields": [
                    {"name": "summary"},
                    {"name": "description"},
                    {"name": "priority", "immediate": True},
                    {"name": "labels"},
                    {"name": "assignee"},
                    {"name": "status", "immediate": True},
                    {
                        "name": "favourite food",
                        "server": FAVOURITE_FOOD[0],
                        "cloud": FAVOURITE_FOOD[1],
                    },
                ],
                "users": {
                    "by_email": True,
                    # two people hide their e-mail on Cloud: map everyone explicitly
                    "map": {p.server_name: p.cloud_account_id for p in sites.people},
                },
                "comments": {"direction": "both", "attribution": True},
                "links": "both",
                "sprints": "both",  # sprints are matched by name on each side's boards
            }
        ],
    }


def write_config(path: Path, sites: DemoSites, endpoints: DemoEndpoints) -> Path:
    """Write the configuration to ``path`` with a header saying where the secrets are."""
    header = (
        "# Written by `jirabridge demo`: Server project DEMO <-> Cloud project DEMO.\n"
        f"# Secrets come from the environment ({ENV_SERVER_PASSWORD}, {ENV_CLOUD_TOKEN},\n"
        f"# {ENV_SERVER_HOOK}, {ENV_CLOUD_HOOK}); none is in this file.\n"
    )
    body = yaml.safe_dump(config_document(sites, endpoints), sort_keys=False)
    path.write_text(header + body, encoding="utf-8")
    return path
