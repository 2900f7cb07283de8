package plugins

import (
	"archive/zip"
	"fmt"
)

// Manifest lists the entries of a plugin bundle without extracting it.
func Manifest(bundle string) ([]string, error) {
	r, err := zip.OpenReader(bundle)
	if err != nil {
		return nil, fmt.Errorf("open bundle: %w", err)
	}
	defer r.Close()
	names := make([]string, 0, len(r.File))
	for _, f := range r.File {
		names = append(names, f.Name)
	}
	return names, nil
}
