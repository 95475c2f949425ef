"""`bundle`: build the Claude Desktop extension (.mcpb) from this installation."""

from pathlib import Path
from typing import Annotated

import typer

from . import app
from .options import fail


@app.command("bundle")
def bundle_command(
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE",
                                         help="Where to write the bundle.")] = Path("learnworlds-mcp.mcpb"),
) -> None:
    """Build learnworlds-mcp.mcpb, the Claude Desktop extension: open it in Claude Desktop to install.

    Claude Desktop then asks for the school URL, client id and access token (kept in the OS
    keychain), the methods and tags to offer, and whether to use the sandbox school.
    """
    from .. import bundle

    if output.is_dir():
        output = output / bundle.FILENAME
    try:
        written = bundle.build(output)
    except OSError as exc:
        fail(f"--output {output}: cannot write it ({exc.strerror or exc}); give a file in a folder you can write to",
             code=2)
    size = written.stat().st_size
    typer.echo(f"Wrote {written} ({size / 1024:,.0f} KB, manifest {bundle.MANIFEST_VERSION}, version "
               f"{bundle.__version__}). Open it in Claude Desktop (double-click, or Settings > Extensions) to "
               "install; Claude Desktop installs Python and the dependencies itself.")
