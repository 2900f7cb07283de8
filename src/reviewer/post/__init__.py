"""`reviewer post`: the only part of the tool that holds a GitHub token and talks to GitHub."""
