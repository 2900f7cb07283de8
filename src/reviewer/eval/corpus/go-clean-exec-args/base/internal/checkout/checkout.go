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
