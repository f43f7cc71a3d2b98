"""A Cloud site configured with OAuth 2.0 (3LO): seeded token, refresh, rotation, gateway URL."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml
from typer.testing import CliRunner

from jirabridge.cli import app as cli
from jirabridge.emulator import create_app
from jirabridge.emulator.infra import InfraOptions
from jirabridge.sync.config import load_config
from jirabridge.sync.runner import client_for_site

BASE = "http://cloud.test"
CLOUD_ID = "aaaaaaaa-0000-4000-8000-000000000009"


async def test_oauth2_cloud_site_from_the_config(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app = create_app("cloud", base_url=BASE, options=InfraOptions(base_url=BASE, cloud_id=CLOUD_ID))
    bot = app.site.create_user(
        "Bot", email="bot@acme.io", api_token="tok", groups=["site-admins", "jira-admins"]
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        oauth = (await c.post("/_emulator/oauth/clients", json={"name": "sync"})).json()
        code = (
            await c.post(
                "/_emulator/oauth/codes", json={"clientId": oauth["clientId"], "userKey": bot.key}
            )
        ).json()
        token = (
            await c.post(
                "/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "client_id": oauth["clientId"],
                    "client_secret": oauth["clientSecret"],
                    "code": code["code"],
                },
            )
        ).json()
    path = tmp_path / "jirabridge.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "sites": {
                    "srv": {
                        "flavour": "server",
                        "url": "http://server.test",
                        "auth": "pat",
                        "credential": "env:PAT",
                        "integration_user": "x",
                    },
                    "cld": {
                        "flavour": "cloud",
                        "url": f"{BASE}/ex/jira/{CLOUD_ID}",
                        "auth": "oauth2",
                        "credential": "env:OAUTH_SECRET",
                        "integration_user": bot.key,
                        "oauth": {
                            "client_id": oauth["clientId"],
                            "token_url": f"{BASE}/oauth/token",
                            "token_dir": str(tmp_path / "tokens"),
                        },
                    },
                },
            }
        )
    )
    monkeypatch.chdir(tmp_path)
    seeded = CliRunner().invoke(
        cli,
        ["secrets", "oauth-token", "cld", "--config", str(path)],
        input=token["refresh_token"] + "\n",
    )
    assert seeded.exit_code == 0, seeded.output
    assert token["refresh_token"] not in seeded.output
    site = load_config(path).config.sites["cld"]
    client = client_for_site(
        site,
        {"env:OAUTH_SECRET": oauth["clientSecret"]}.__getitem__,
        transport=transport,
        name="cld",
    )
    try:
        me = await client.myself()
        assert me.account_id == bot.key
    finally:
        await client.aclose()  # type: ignore[attr-defined]
    stored = (tmp_path / "tokens" / "cld.json").read_text()
    assert token["refresh_token"] not in stored  # rotated on first use


def test_oauth2_needs_its_section() -> None:
    import pytest

    from jirabridge.sync.config import ConfigError, parse_config

    text = yaml.safe_dump(
        {
            "sites": {
                "c": {
                    "flavour": "cloud",
                    "url": "https://x.atlassian.net",
                    "auth": "oauth2",
                    "credential": "env:S",
                    "integration_user": "a",
                }
            }
        }
    )
    with pytest.raises(ConfigError, match="go together"):
        parse_config(text)
