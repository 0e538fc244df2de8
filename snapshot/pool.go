package snapshot

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// poolAllocator is an Arrow allocator that recycles buffers. A page's rows
// pass through the record builders a batch at a time, and each batch's
// buffers are released once the Parquet writer has encoded them: with Go's
// allocator that was half of the 80 MB allocated per page, and the garbage
// collections it caused preempted the page scan. Buffers come in power-of-
// two sizes from 64 bytes, which Go allocates 64-byte aligned as Arrow
// wants; larger than maxPooled is left to Go.
type poolAllocator struct {
	classes [maxPooledShift + 1]sync.Pool // class k holds *[]byte of capacity 1<<k
}

const (
	minPooledShift = 6
	maxPooledShift = 24 // 16 MiB: no column of a 5,000-row batch needs more
)

// recordPool feeds the page scanner's record builders.
var recordPool = &poolAllocator{}

var _ memory.Allocator = (*poolAllocator)(nil)

// sizeClass is the smallest k with 1<<k >= n, at least minPooledShift.
func sizeClass(n int) int {
	if n <= 1<<minPooledShift {
		return minPooledShift
	}
	return bits.Len(uint(n - 1))
}

// Allocate returns n zeroed bytes, as Go's allocator does: builders rely on
// it for their validity bitmaps.
func (a *poolAllocator) Allocate(n int) []byte {
	k := sizeClass(n)
	if k > maxPooledShift {
		return make([]byte, n)
	}
	if v := a.classes[k].Get(); v != nil {
		b := (*v.(*[]byte))[:n]
		clear(b)
		return b
	}
	return make([]byte, n, 1<<k)
}

func (a *poolAllocator) Reallocate(n int, b []byte) []byte {
	if n <= cap(b) {
		old := len(b)
		b = b[:n]
		if n > old {
			clear(b[old:])
		}
		return b
	}
	nb := a.Allocate(n)
	copy(nb, b)
	a.Free(b)
	return nb
}

// Free takes back a buffer this allocator made; any other is left to Go.
func (a *poolAllocator) Free(b []byte) {
	c := cap(b)
	if c < 1<<minPooledShift || c&(c-1) != 0 {
		return
	}
	k := bits.Len(uint(c)) - 1
	if k > maxPooledShift {
		return
	}
	b = b[:c]
	a.classes[k].Put(&b)
}
