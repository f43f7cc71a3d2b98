"""Helpers other test families import (``tests.support.openapi``)."""
