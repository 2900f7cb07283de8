package gateway

import (
	"net/http"
	"time"
)

type Upstream struct {
	Name string
	URL  string
}

var client = &http.Client{Timeout: 3 * time.Second}

// Healthy asks each upstream's /healthz and reports which answered 200.
func Healthy(ups []Upstream) map[string]bool {
	out := make(map[string]bool, len(ups))
	for _, u := range ups {
		resp, err := client.Get(u.URL + "/healthz")
		if err != nil {
			out[u.Name] = false
			continue
		}
		out[u.Name] = resp.StatusCode == http.StatusOK
	}
	return out
}
