package server

import (
	"sync"
	"time"
)

// recent remembers keys for a while, at most max of them (the oldest are forgotten first),
// so memory stays bounded however many jobs pass through one instance.
type recent struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	seen  map[string]time.Time // key -> when it expires
	order []claimed            // claims, oldest first (released ones included)
}

type claimed struct {
	key     string
	expires time.Time
}

func newRecent(max int, ttl time.Duration) *recent {
	return &recent{max: max, ttl: ttl, seen: map[string]time.Time{}}
}

// claim records key and reports true, or reports false when key was claimed and has neither
// expired nor been released.
func (r *recent) claim(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if exp, ok := r.seen[key]; ok && now.Before(exp) {
		return false
	}
	// Forget the expired claims and, beyond max, the oldest; a claim released or made again
	// since is no longer the map's entry and is only dropped from the order.
	for len(r.order) > 0 {
		c := r.order[0]
		current := r.seen[c.key] == c.expires
		if current && now.Before(c.expires) && len(r.seen) < r.max {
			break
		}
		if current {
			delete(r.seen, c.key)
		}
		r.order = r.order[1:]
	}
	exp := now.Add(r.ttl)
	r.seen[key] = exp
	r.order = append(r.order, claimed{key, exp})
	return true
}

// release forgets key, so it may be claimed again.
func (r *recent) release(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.seen, key)
}
