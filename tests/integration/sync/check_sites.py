"""Both emulators with a bot each and project OPS, for the ``jirabridge check`` tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import yaml

from jirabridge.emulator import create_app
from jirabridge.emulator.model import deny_permissions
from jirabridge.sync.check import check_live
from jirabridge.sync.config import ConfigProblem, parse_config
from jirabridge.sync.runner import client_for_site

from .test_apply_emulator import BASE_C, BASE_S
from .test_check_serve import GOOD

SECRETS = {"env:SRV_PW": "pw", "env:CLD_TOKEN": "tok"}


@dataclass
class CheckSites:
    server: Any  # EmulatorApp
    cloud: Any
    s_bot: Any  # the integration users (model User records)
    c_bot: Any

    def deny(self, side: str, *keys: str) -> None:
        """Take project permissions in OPS away from that side's bot."""
        app, bot = (self.server, self.s_bot) if side == "server" else (self.cloud, self.c_bot)
        deny_permissions(app.site, "OPS", bot.key, keys)


def check_sites(server_url: str = BASE_S, cloud_url: str = BASE_C) -> CheckSites:
    server = create_app("server", base_url=server_url)
    cloud = create_app("cloud", base_url=cloud_url)
    s_bot = server.site.create_user(
        "Bot", name="svc-jirabridge", password="pw", groups=["jira-administrators"]
    )
    c_bot = cloud.site.create_user(
        "Bot", email="bot@acme.io", api_token="tok", groups=["site-admins", "jira-admins"]
    )
    server.site.create_project("OPS", "Ops", server.site.admin_key)
    cloud.site.create_project("OPS", "Ops", cloud.site.admin_key)
    return CheckSites(server, cloud, s_bot, c_bot)


def good_config() -> dict[str, Any]:
    """A fresh copy of the config that passes the live check."""
    return dict(json.loads(json.dumps(GOOD)))


def config_text(sites: CheckSites, config: dict[str, Any]) -> str:
    text = yaml.safe_dump(config, sort_keys=False)
    return text.replace("SBOT", sites.s_bot.key).replace("CBOT", sites.c_bot.key)


async def check_with(
    config: dict[str, Any], prepare: Callable[[CheckSites], None] | None = None
) -> tuple[list[ConfigProblem], list[str]]:
    """``check_live`` of ``config`` against fresh sites ``prepare`` changed; the problems
    and the file's lines (to look at the line a problem names)."""
    sites = check_sites()
    if prepare is not None:
        prepare(sites)
    text = config_text(sites, config)
    loaded = parse_config(text, name="c")
    apps = {"srv": sites.server, "cld": sites.cloud}
    clients = {
        name: client_for_site(site, SECRETS.__getitem__, transport=httpx.ASGITransport(apps[name]))
        for name, site in loaded.config.sites.items()
    }
    try:
        return await check_live(loaded, clients), text.splitlines()
    finally:
        for c in clients.values():
            await c.aclose()  # type: ignore[attr-defined]
