"""Cross-cutting parts of the emulators: auth, rate limits, faults, counters, webhooks, control.

Each piece is pure state and logic (testable with a fake clock) plus a thin ASGI part. The faces
use one object, :class:`Infra`::

    infra = Infra(site, Flavour.CLOUD, options=InfraOptions(base_url=...))
    infra.set_payload_builder(render_webhook)
    app = infra.wrap(Starlette(routes=infra.routes() + face_routes, lifespan=...))
    site.subscribe(infra.on_event)
"""

from jirabridge.emulator.infra._counters import RequestCounters
from jirabridge.emulator.infra._infra import Infra
from jirabridge.emulator.infra._options import InfraOptions
from jirabridge.emulator.infra._ports import FlavourName, SystemClock

__all__ = ["FlavourName", "Infra", "InfraOptions", "RequestCounters", "SystemClock"]
