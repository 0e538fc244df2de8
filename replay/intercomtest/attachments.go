package intercomtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
)

// File is one attachment of a part as the emulator keeps it: the name and
// type sent, the decoded size and a digest of the bytes (never the bytes, so
// that a large migration test does not hold every file in memory). A file
// given by URL has no size or digest: the real service fetches it later.
type File struct {
	Name, ContentType string
	Size              int64
	SHA256            string
	URL               string // for attachment_urls
}

func (f File) json(partID string, n int) map[string]any {
	url := f.URL
	if url == "" {
		url = fmt.Sprintf("https://intercomtest.invalid/parts/%s/%d", partID, n)
	}
	return map[string]any{"type": "upload", "name": f.Name, "url": url,
		"content_type": nullable(f.ContentType), "filesize": f.Size, "width": nil, "height": nil}
}

// maxAttachments is the per-list cap of spec §16: attachment_urls and
// attachment_files take 10 each (the schema caps only some reply variants;
// the spec says treat 10 as the limit everywhere).
const maxAttachments = 10

// attachments reads attachment_urls and attachment_files of a reply and
// enforces the count cap, base64 data and the configured size cap. The real
// messages for these refusals are undocumented.
func (s *Server) attachments(b map[string]any) ([]File, *apiError) {
	if _, e := countAttachments(b); e != nil {
		return nil, e
	}
	var out []File
	urls, _ := b["attachment_urls"].([]any)
	for _, u := range urls {
		us, _ := u.(string)
		out = append(out, File{Name: path.Base(strings.SplitN(us, "?", 2)[0]), URL: us})
	}
	files, _ := b["attachment_files"].([]any)
	for i, raw := range files {
		f, e := s.attachmentFile(raw, i)
		if e != nil {
			return nil, e
		}
		out = append(out, f)
	}
	return out, nil
}

func (s *Server) attachmentFile(raw any, i int) (File, *apiError) {
	m, _ := raw.(map[string]any)
	data, err := base64.StdEncoding.DecodeString(str(m, "data"))
	if err != nil {
		return File{}, invalid("attachment_files[%d].data is not valid base64", i)
	}
	if len(data) == 0 {
		return File{}, invalid("attachment_files[%d].data is empty", i)
	}
	if s.opts.MaxAttachmentBytes > 0 && int64(len(data)) > s.opts.MaxAttachmentBytes {
		return File{}, errf(413, "file_too_large", "attachment_files[%d] is %d bytes, over the limit of %d",
			i, len(data), s.opts.MaxAttachmentBytes)
	}
	sum := sha256.Sum256(data)
	return File{Name: str(m, "name"), ContentType: str(m, "content_type"), Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:])}, nil
}

// PartFiles returns the files stored on part partID of conversation convID,
// for tests that check what arrived byte for byte (by digest).
func (s *Server) PartFiles(convID, partID string) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.st.conversations[convID]
	if cv == nil {
		return nil
	}
	for _, p := range cv.Parts {
		if p.ID == partID {
			return append([]File(nil), p.Files...)
		}
	}
	return nil
}
