package audit

import "time"

type Entry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
}

// All returns every entry, newest first.
func All(entries []Entry) []Entry {
	out := make([]Entry, len(entries))
	for i, e := range entries {
		out[len(entries)-1-i] = e
	}
	return out
}

// Page returns page number page (1 is the first) of size entries, newest first.
func Page(entries []Entry, page, size int) []Entry {
	if page < 1 || size < 1 {
		return nil
	}
	all := All(entries)
	start := page * size
	if start >= len(all) {
		return nil
	}
	end := start + size
	if end > len(all) {
		end = len(all)
	}
	return all[start:end]
}
