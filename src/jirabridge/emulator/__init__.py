"""Emulators of Jira Server/Data Center and Jira Cloud.

``model`` holds the state of one emulated site (no HTTP); ``faces`` present it as each flavour
does; ``infra`` adds auth, rate limits, faults, webhooks and the ``/_emulator`` control plane.
"""
