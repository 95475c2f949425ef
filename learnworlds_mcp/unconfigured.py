"""A server started without credentials: tools are listed, and every call that needs the school says how to set them up.

A host shows a server that exits before `initialize` as merely "failed to connect"; a server that
starts and answers with the fix tells the user (through the model) exactly what to do.
"""

from __future__ import annotations

from typing import Any

from .auth import LOGIN_HINT, Credentials
from .client import LearnWorldsClient
from .errors import CredentialsError

ENV_BLOCK = ('"env": {"LEARNWORLDS_SCHOOL_URL": "https://YOURSCHOOL.learnworlds.com", '
             '"LEARNWORLDS_CLIENT_ID": "...", "LEARNWORLDS_ACCESS_TOKEN": "..."}')


def setup_message(problem: str, profile: str = "default") -> str:
    """The problem, then both ways to fix it: a stored profile, or the host entry's `env` block."""
    flag = "" if profile == "default" else f" --profile {profile}"
    problem = problem.replace(f"; {LOGIN_HINT}", "").rstrip(".")
    return (f"{problem}. This server has no usable LearnWorlds credentials, so no tool can reach "
            f"the school. To fix it, either run `learnworlds-mcp auth login{flag} --school-url "
            f"https://YOURSCHOOL.learnworlds.com --client-id YOUR_CLIENT_ID` in a terminal (the token is asked "
            f"for hidden and kept in the OS keyring), or add to this server's entry in the host's config "
            f"{ENV_BLOCK} (the Claude Desktop extension asks for these in its settings). Then restart the host "
            f"or reconnect the server. `learnworlds-mcp doctor` checks the set-up.")


class UnconfiguredClient(LearnWorldsClient):
    """Stands in for the client when credentials are missing: sends nothing, raises the set-up message."""

    def __init__(self, message: str, **kwargs: Any):
        super().__init__(Credentials(api_url="", client_id=""), **kwargs)
        self.message = message

    async def send(self, *args: Any, **kwargs: Any) -> Any:
        raise CredentialsError(self.message)
