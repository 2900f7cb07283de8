"""`reviewer post`: the only part of the tool that holds a host token and talks to the code host,
through one small interface (post.host) with one module per host (post.hosts)."""
