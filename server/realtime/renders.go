package realtime

import (
	"sync"
	"unique"
)

// renders keeps the payloads last rendered for shared subscriptions, by
// (item, share key), so the other subscriptions with the same document and
// variables reuse them instead of executing the document and encoding the
// result again. The item
// is the pointer the stream queued (one *confab.Message for every
// subscriber of the conversation), so equal keys mean the very same event.
//
// It is bounded: the oldest entry goes when a new one arrives and the table
// is full. A miss only costs a rendering; results are never wrong, since
// an item pointer is not reused while the table holds it.
type renders struct {
	mu    sync.Mutex
	m     map[renderKey][]byte // guarded by mu
	order []renderKey          // guarded by mu: insertion ring
	next  int                  // guarded by mu: the ring slot to fill (and evict) next
}

type renderKey struct {
	item  any
	share unique.Handle[string]
}

// maxRenders bounds the table: enough for every conversation with
// subscribers on this node to have its latest few events shared.
const maxRenders = 4096

func newRenders(size int) *renders {
	return &renders{m: make(map[renderKey][]byte, size), order: make([]renderKey, size)}
}

// get returns the payload rendered for item under share, or nil. The
// payload is shared: read only.
func (r *renders) get(item any, share unique.Handle[string]) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[renderKey{item, share}]
}

// put records payload as the rendering of item under share. The payload
// must not change afterwards (Protocol.Payload returns a fresh slice, not
// gqlgen's buffer, which it reuses for the operation's next result).
func (r *renders) put(item any, share unique.Handle[string], payload []byte) {
	k := renderKey{item, share}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[k]; ok {
		return
	}
	if old := r.order[r.next]; old.item != nil {
		delete(r.m, old)
	}
	r.order[r.next] = k
	r.next = (r.next + 1) % len(r.order)
	r.m[k] = payload
}
