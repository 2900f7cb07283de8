package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

const lookupTimeout = 2 * time.Second

type Client struct {
	BaseURL string
	HTTP    *http.Client
}

func (c Client) Stock(ctx context.Context, sku string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	endpoint := c.BaseURL + "/stock/" + url.PathEscape(sku)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("inventory: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("inventory: HTTP %d", resp.StatusCode)
	}
	var body struct{ Available int }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("inventory: decode: %w", err)
	}
	return body.Available, nil
}
