package report

import (
	"encoding/json"
	"os"
	"path/filepath"
)

type Report struct {
	Title string   `json:"title"`
	Rows  []string `json:"rows"`
}

// Save writes the report as JSON to path, replacing it in one step.
func Save(path string, r Report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*")
	if err != nil {
		return err
	}
	tmp.Write(data)
	tmp.Close()
	return os.Rename(tmp.Name(), path)
}
