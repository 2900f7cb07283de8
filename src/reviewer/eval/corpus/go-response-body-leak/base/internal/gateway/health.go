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

// Healthy reports which upstreams are configured; all assumed up.
func Healthy(ups []Upstream) map[string]bool {
	out := make(map[string]bool, len(ups))
	for _, u := range ups {
		out[u.Name] = true
	}
	return out
}
