package server

import (
	"strconv"
	"testing"
	"time"
)

func TestRecent(t *testing.T) {
	r := newRecent(3, time.Minute)
	now := testNow
	steps := []struct {
		op   string // "claim" or "release"
		key  string
		at   time.Duration
		want bool
	}{
		{"claim", "a", 0, true},
		{"claim", "a", time.Second, false},
		{"release", "a", time.Second, true},
		{"claim", "a", 2 * time.Second, true},
		{"claim", "a", 61 * time.Second, false}, // claimed again at 2 s: expires at 62 s
		{"claim", "a", 62 * time.Second, true},
		{"claim", "b", 62 * time.Second, true},
		{"claim", "c", 62 * time.Second, true},
		{"claim", "d", 62 * time.Second, true}, // over max: the oldest (a) is forgotten
		{"claim", "a", 63 * time.Second, true},
		{"claim", "c", 63 * time.Second, false},
	}
	for i, s := range steps {
		switch s.op {
		case "claim":
			if got := r.claim(s.key, now.Add(s.at)); got != s.want {
				t.Errorf("step %d: claim(%s) at %s = %v, want %v", i, s.key, s.at, got, s.want)
			}
		case "release":
			r.release(s.key)
		}
	}
	for i := range 1000 {
		r.claim(strconv.Itoa(i), now.Add(time.Hour))
	}
	if len(r.seen) > 3 || len(r.order) > 4 {
		t.Errorf("holds %d keys and %d claims, want at most 3", len(r.seen), len(r.order))
	}
}
