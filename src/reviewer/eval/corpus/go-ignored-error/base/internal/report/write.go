package report

import (
	"encoding/json"
	"os"
)

type Report struct {
	Title string   `json:"title"`
	Rows  []string `json:"rows"`
}

// Save writes the report as JSON to path.
func Save(path string, r Report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
