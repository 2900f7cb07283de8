package checkout

import (
	"context"
	"fmt"
	"os/exec"
)

// Clone fetches the repository into dir.
func Clone(ctx context.Context, repoURL, dir string) error {
	cmd := exec.CommandContext(ctx, "git", "clone", "--depth=1", "--", repoURL, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git clone: %w: %s", err, out)
	}
	return nil
}

// Checkout switches dir to branch, which must be a valid branch name.
func Checkout(ctx context.Context, dir, branch string) error {
	check := exec.CommandContext(ctx, "git", "check-ref-format", "--branch", branch)
	if err := check.Run(); err != nil {
		return fmt.Errorf("invalid branch name %q", branch)
	}
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "checkout", "--quiet", branch, "--")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git checkout: %w: %s", err, out)
	}
	return nil
}
