package snapshot

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// A raw page file is a run of zstd frames; read as one stream, by DecodeAll
// and by the streaming decoder, it must give back exactly the body, for
// bodies around the chunk size, written in pieces of any size, and after a
// read that started over.
func TestRawPageFrames(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	text := []byte(`{"incidentid":"7a1c2e44-0000-4000-8000-000000000001","title":"Printer on fire"},`)
	sizes := []int{0, 1, 1000, rawChunk - 1, rawChunk, rawChunk + 1, 3*rawChunk + 17, 5 * rawChunk}
	r := &tableRun{}
	for k, size := range sizes {
		body := make([]byte, size)
		for i := range body {
			body[i] = text[i%len(text)]
			if rnd.IntN(50) == 0 {
				body[i] = byte(rnd.IntN(256))
			}
		}
		rp := r.rawPage(k)
		rp.Write(body[:size/3]) // a read cut off in transit, started over
		rp = r.rawPage(k)
		for rest := body; len(rest) > 0; {
			n := min(len(rest), 1+rnd.IntN(2*rawChunk/3))
			if _, err := rp.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		zst, err := rp.finish()
		if err != nil {
			t.Fatal(err)
		}
		checkFrames(t, size, zst, body)
	}
}

func checkFrames(t *testing.T, size int, zst, body []byte) {
	t.Helper()
	all, err := zstdDecoder.DecodeAll(zst, nil)
	if err != nil || !bytes.Equal(all, body) {
		t.Fatalf("%d bytes: DecodeAll gave %d bytes, err %v", size, len(all), err)
	}
	dec, err := zstd.NewReader(bytes.NewReader(zst))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	streamed, err := io.ReadAll(dec)
	if err != nil || !bytes.Equal(streamed, body) {
		t.Fatalf("%d bytes: stream gave %d bytes, err %v", size, len(streamed), err)
	}
}
