package inproc

import (
	"testing"
	"unsafe"
)

// TestShard_Size checks the padding: a shard fills whole 64-byte cache
// lines, so publishers on neighbouring shards do not share one.
func TestShard_Size(t *testing.T) {
	if got := unsafe.Sizeof(shard{}); got%64 != 0 {
		t.Fatalf("unsafe.Sizeof(shard{}) = %d, want a multiple of 64", got)
	}
}
