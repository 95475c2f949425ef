"""How help reads in an 80-column terminal: plain click layout, nothing cut, no Typer `{ARG}` or `<str>`."""

from __future__ import annotations

from typer.core import TyperArgument, TyperCommand, TyperGroup

# Plain (click) help wraps every line to the terminal and never cuts a flag value or an
# environment name with an ellipsis, as rich's option tables do at 80 columns.
HELP = {"rich_markup_mode": None}


class Group(TyperGroup):
    """Each command's first sentence in full, wrapped, instead of click's cut at the column edge."""

    def format_commands(self, ctx, formatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class Command(TyperCommand):
    """Usage reads `call [OPTIONS] TOOL` (Typer writes `{TOOL}`); an argument with a metavar shows no `<str>`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument) and param.metavar:
                param.display_type_rich = lambda ctx: None

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [piece.replace("{", "").replace("}", "") for piece in super().collect_usage_pieces(ctx)]
