"""What the CI environment says about the job: the host (GitHub Actions, GitLab CI, Gitea and
Forgejo Actions), its pull or merge request and that request's range (environment.py), and
the GitHub-compatible event file, read in one place (event.py)."""
