"""A local stand-in for the LearnWorlds v2 admin API, seeded with a deterministic school.

create_app builds the Starlette app; start_sandbox serves it in a background thread;
run_sandbox serves it until interrupted. Starlette and uvicorn load only when first used.
"""

from .tokens import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

__all__ = ["SANDBOX_ACCESS_TOKEN", "SANDBOX_CLIENT_ID", "SANDBOX_CLIENT_SECRET",
           "create_app", "run_sandbox", "start_sandbox"]


def __getattr__(name: str):
    # Lazy on purpose: importing the package for its constants must not pull in a web stack.
    if name == "create_app":
        from .app import create_app

        return create_app
    if name in ("start_sandbox", "run_sandbox", "SandboxHandle"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
