"""Worker process for the crash test: leases and completes jobs until killed."""

from __future__ import annotations

import random
import sys
import time

from jirabridge.sync.config import QueueConfig
from jirabridge.sync.queue import Queue
from jirabridge.sync.store import open_store


def main() -> None:
    url, schema = sys.argv[1], (sys.argv[2] or None)
    store = open_store(url, schema=schema, migrate=False)
    queue = Queue(store, config=QueueConfig(coalesce_seconds=0, lease_seconds=0.3))
    rng = random.Random()
    print("ready", flush=True)
    while True:
        for job in queue.lease("crashy", limit=2):
            time.sleep(rng.random() * 0.01)  # "applying" the job
            queue.complete(job)


if __name__ == "__main__":
    main()
