"""What every HTTP client of ours shares (the model backends and the poster alike): how
failed requests are retried and how a server's Retry-After is read."""
