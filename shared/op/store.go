package op

import (
	"context"
	"sync"
	"time"

	"github.com/lbfn/lbfn/shared/validate"
)

// Store remembers creations by idempotency key, so that a request delivered again answers
// the first result instead of creating a second resource. The semantics are Powertools':
// a key is claimed before the call, completed with its result after a success, and released
// after anything else so a retry can run. Keys are already namespaced by function.
type Store interface {
	// Claim starts the creation under key for a request whose digest is hash, holding the key
	// until lease ends (the invocation's deadline). It returns the stored result when key
	// already completed for the same hash; ErrInProgress when another execution holds key;
	// ErrKeyReused when key completed or is held for a different request.
	Claim(ctx context.Context, key, hash string, lease time.Time) (*Result, error)
	// Complete stores the result of a finished creation under key.
	Complete(ctx context.Context, key, hash string, res *Result) error
	// Release drops the claim on key after a failure or an unfinished creation.
	Release(ctx context.Context, key string) error
}

// ErrInProgress is returned by Claim while another execution holds the key: retryable, since
// that execution will finish or its lease expire. Its own kind (InProgressError to a state
// machine) keeps it apart from a real conflict, which retrying never mends.
var ErrInProgress = &Error{Kind: KindInProgress, Retryable: true,
	Message: "a creation with this idempotency key is already in progress"}

// ErrKeyReused is returned by Claim for a key already used by a different request: the
// caller's mistake, and nothing is sent.
var ErrKeyReused = &Error{Kind: KindValidation,
	Message:    "idempotencyKey: already used for a different request",
	Violations: []validate.Violation{{Field: "idempotencyKey", Message: "already used for a different request"}}}

// MemoryStore is a Store in this process's memory. In a warm Lambda or a long-running server
// it turns a repeated delivery into a replay; across processes a durable store is needed.
type MemoryStore struct {
	// TTL is how long a completed creation is remembered. Default one hour.
	TTL time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time

	mu      sync.Mutex
	records map[string]memoryRecord
	// sweepAt is the record count at which the next claim sweeps (see sweep).
	sweepAt int
}

type memoryRecord struct {
	hash    string
	done    bool
	result  *Result
	expires time.Time
}

func (m *MemoryStore) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Claim implements Store.
func (m *MemoryStore) Claim(_ context.Context, key, hash string, lease time.Time) (*Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.records == nil {
		m.records = map[string]memoryRecord{}
	}
	if rec, ok := m.records[key]; ok && now.Before(rec.expires) {
		switch {
		case rec.hash != hash:
			return nil, ErrKeyReused
		case rec.done:
			return rec.result, nil
		default:
			return nil, ErrInProgress
		}
	}
	if len(m.records) >= m.sweepAt {
		m.sweep(now)
	}
	m.records[key] = memoryRecord{hash: hash, expires: lease}
	return nil, nil
}

// Complete implements Store.
func (m *MemoryStore) Complete(_ context.Context, key, hash string, res *Result) error {
	ttl := m.TTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.records == nil {
		m.records = map[string]memoryRecord{}
	}
	m.records[key] = memoryRecord{hash: hash, done: true, result: res, expires: m.now().Add(ttl)}
	return nil
}

// Release implements Store.
func (m *MemoryStore) Release(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.records, key)
	return nil
}

// sweep drops expired records, so a long-running process does not grow without bound. It
// runs on a new claim once the records have doubled since the last sweep (and at
// minSweep), so that its walk over every record costs each claim O(1) amortised instead of
// O(records): a warm process that has served thousands of creations would otherwise spend
// most of each invocation here. Under the lock.
func (m *MemoryStore) sweep(now time.Time) {
	for k, rec := range m.records {
		if !now.Before(rec.expires) {
			delete(m.records, k)
		}
	}
	m.sweepAt = max(2*len(m.records), minSweep)
}

// minSweep is the record count below which no claim sweeps.
const minSweep = 64
