package sampleorg

import (
	"fmt"
	"testing"
)

// fill's cached streams are hash64's: rows stay what they were.
func TestHashInTwoHalvesIsHash64(t *testing.T) {
	for _, seed := range []int64{0, 1, -7, 1 << 40} {
		for _, label := range []string{"", "incident/title", "contact/münchen"} {
			for _, i := range []int64{0, 1, 4999, 1 << 33} {
				if got, want := hashIndex(hashLabel(seed, label), i), hash64(seed, label, i); got != want {
					t.Fatalf("seed %d label %q row %d: %x, want %x", seed, label, i, got, want)
				}
			}
		}
	}
}

func TestGUIDFromMatchesSprintf(t *testing.T) {
	for _, h := range []uint64{0, 1, 0xffffffffffffffff, 0x0123456789abcdef, 0xdeadbeef00c0ffee} {
		for _, index := range []int64{0, 7, 1 << 47, -1} {
			want := fmt.Sprintf("%08x-%04x-%02x11-%04x-%012x",
				uint32(h>>32), uint16(h>>16), byte(0x1f), 0x8000|uint16(h&0x3fff), uint64(index)&0xffffffffffff)
			if got := guidFrom(h, 0x1f, index); got != want {
				t.Fatalf("guidFrom(%x, %d) = %s, want %s", h, index, got, want)
			}
		}
	}
}

func BenchmarkIncidentRow(b *testing.B) {
	o, err := New(Options{Seed: 1, Cases: 5000})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if _, err := o.Row("incident", i%5000); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
