"""`python -m reviewer`."""

from __future__ import annotations

from reviewer.cli.app import main

if __name__ == "__main__":
    main()
