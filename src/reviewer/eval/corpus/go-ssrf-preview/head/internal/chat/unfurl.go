package chat

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

type Preview struct {
	URL   string `json:"url"`
	Host  string `json:"host"`
	Title string `json:"title"`
}

var titleRE = regexp.MustCompile(`(?is)<title>(.*?)</title>`)
var client = &http.Client{Timeout: 4 * time.Second}

func Unfurl(raw string) (Preview, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{URL: raw, Host: strings.ToLower(u.Hostname())}
	resp, err := client.Get(u.String())
	if err != nil {
		return p, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if m := titleRE.FindSubmatch(body); m != nil {
		p.Title = strings.TrimSpace(string(m[1]))
	}
	return p, nil
}
