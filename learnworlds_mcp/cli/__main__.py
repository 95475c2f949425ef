"""`python -m learnworlds_mcp.cli`, the same as the `learnworlds-mcp` command."""

from . import run

run()
