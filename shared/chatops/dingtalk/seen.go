package dingtalk

import (
	"sync"
	"time"
)

// maxSeen bounds the msgId set: an hour of a busy robot, at a few dozen bytes each.
const maxSeen = 10000

// seenSet remembers ids for ttl, at most max of them: when full, the oldest is forgotten
// first. It lives in one instance's memory, so it catches a redelivery to the same instance;
// the job id (the idempotency key) keeps the creation single everywhere else.
type seenSet struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	at    map[string]time.Time
	order []string // insertion order, oldest first (a queue; head is the next to evict)
	head  int
}

func newSeenSet(max int, ttl time.Duration) *seenSet {
	return &seenSet{max: max, ttl: ttl, at: map[string]time.Time{}}
}

// add records id at now and reports whether it was new (not seen within ttl).
func (s *seenSet) add(id string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Forget what expired, and the oldest when full.
	for s.head < len(s.order) {
		old := s.order[s.head]
		if len(s.at) < s.max && now.Sub(s.at[old]) < s.ttl {
			break
		}
		delete(s.at, old)
		s.head++
	}
	if s.head > len(s.order)/2 { // compact so the queue does not grow without bound
		s.order = append([]string(nil), s.order[s.head:]...)
		s.head = 0
	}
	if t, ok := s.at[id]; ok && now.Sub(t) < s.ttl && now.Sub(t) > -s.ttl {
		return false
	}
	if _, ok := s.at[id]; !ok {
		s.order = append(s.order, id)
	}
	s.at[id] = now
	return true
}
