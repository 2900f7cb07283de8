"""What the CI environment says about the job: the event that started it (today GitHub
Actions' GITHUB_EVENT_PATH), read in one place for the diff source and the poster."""
