package chat

import (
	"net/url"
	"strings"
)

type Preview struct {
	URL   string `json:"url"`
	Host  string `json:"host"`
	Title string `json:"title"`
}

func Unfurl(raw string) (Preview, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Preview{}, err
	}
	return Preview{URL: raw, Host: strings.ToLower(u.Hostname())}, nil
}
