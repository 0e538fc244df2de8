package sampleorg

import (
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// Blob is the value of a binary column (annotation.documentbody,
// activitymimeattachment.body). Dataverse stores those as Base64 text; a Blob
// produces any byte range of the original file on demand, so a 20 MB
// attachment costs no memory until it is read, and then only a buffer.
type Blob struct {
	Size int64 // bytes of the original file (the filesize column)

	data []byte // literal content of small files; nil when generated
	key  uint64
	text bool   // generated text lines instead of binary noise
	head []byte // file signature of generated binaries (%PDF, PNG, JPEG)
}

// LiteralBlob wraps a file's bytes.
func LiteralBlob(b []byte) Blob { return Blob{Size: int64(len(b)), data: b} }

func genBlob(key uint64, size int64, mimetype string) Blob {
	b := Blob{Size: size, key: key}
	switch {
	case strings.HasPrefix(mimetype, "text/"):
		b.text = true
	case mimetype == "application/pdf":
		b.head = []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	case mimetype == "image/png":
		b.head = []byte("\x89PNG\r\n\x1a\n")
	case mimetype == "image/jpeg":
		b.head = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	}
	return b
}

const lineWidth = 64

// ReadAt fills p with the file's bytes from off.
func (b Blob) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("blob: negative offset %d", off)
	}
	if off >= b.Size {
		return 0, io.EOF
	}
	n := len(p)
	if rest := b.Size - off; int64(n) > rest {
		n = int(rest)
	}
	if b.data != nil {
		copy(p, b.data[off:off+int64(n)])
	} else {
		for k := 0; k < n; {
			pos := off + int64(k)
			if b.text {
				k += copy(p[k:n], b.line(pos / lineWidth)[pos%lineWidth:])
				continue
			}
			p[k] = b.byteAt(pos)
			k++
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (b Blob) line(n int64) string {
	s := fmt.Sprintf("%06d INFO job %04x step ok, queue drained, retry=0", n, b.key&0xffff)
	return s + strings.Repeat(".", lineWidth-1-len(s)) + "\n"
}

func (b Blob) byteAt(k int64) byte {
	if k < int64(len(b.head)) {
		return b.head[k]
	}
	return byte(mix64(b.key^uint64(k/8)*0x9e3779b97f4a7c15) >> (8 * (k % 8)))
}

// Base64Len is the length of the column's Base64 text.
func (b Blob) Base64Len() int64 { return (b.Size + 2) / 3 * 4 }

// Base64 returns the whole column value; prefer WriteBase64 for large files.
func (b Blob) Base64() string {
	var sb strings.Builder
	sb.Grow(int(b.Base64Len()))
	_ = b.WriteBase64(&sb)
	return sb.String()
}

// WriteBase64 streams the column value in constant memory.
func (b Blob) WriteBase64(w io.Writer) error {
	return b.writeBase64Range(w, 0, b.Size)
}

// Base64Range returns the Base64 text of file bytes [off, off+n) — what
// DownloadBlock returns for one block.
func (b Blob) Base64Range(off, n int64) string {
	var sb strings.Builder
	_ = b.writeBase64Range(&sb, off, n)
	return sb.String()
}

func (b Blob) writeBase64Range(w io.Writer, off, n int64) error {
	const chunk = 48 << 10 // a multiple of 3: chunks encode without padding
	buf := make([]byte, chunk)
	out := make([]byte, base64.StdEncoding.EncodedLen(chunk))
	end := min(off+n, b.Size)
	for pos := off; pos < end; pos += chunk {
		k, _ := b.ReadAt(buf[:min(chunk, end-pos)], pos)
		base64.StdEncoding.Encode(out, buf[:k])
		if _, err := w.Write(out[:base64.StdEncoding.EncodedLen(k)]); err != nil {
			return fmt.Errorf("blob: write base64 at %d: %w", pos, err)
		}
	}
	return nil
}

// String is the Base64 text, so that fmt and comparisons see the content.
func (b Blob) String() string {
	if b.Size > 1<<20 {
		return fmt.Sprintf("Blob(%d bytes, key %x)", b.Size, b.key)
	}
	return b.Base64()
}
