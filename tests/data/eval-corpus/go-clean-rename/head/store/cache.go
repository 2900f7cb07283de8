package store

import (
	"sync"
	"time"
)

// entry is one cached value and the moment it stops being fresh.
type entry struct {
	value   []byte
	expires time.Time
}

// Cache is a small in-memory cache with a fixed time to live, safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	ttl     time.Duration
	entries map[string]entry
}

// NewCache returns an empty cache whose entries live for ttl.
func NewCache(ttl time.Duration) *Cache {
	return &Cache{ttl: ttl, entries: make(map[string]entry)}
}

// Get returns the value for key and whether it was present and fresh.
func (c *Cache) Get(key string, now time.Time) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	return e.value, true
}

// Put stores value under key.
func (c *Cache) Put(key string, value []byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = entry{value: value, expires: now.Add(c.ttl)}
}
