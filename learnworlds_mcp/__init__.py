"""learnworlds-mcp: a LearnWorlds school as MCP tools, generated from bundled operation files."""

__version__ = "0.1.0"
