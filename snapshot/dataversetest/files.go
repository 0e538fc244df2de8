package dataversetest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"

	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// File columns (spec §12, e.g. msdyn_ocrecording.msdyn_recording): unlike
// the Base64 columns of binary.go, $value returns the raw bytes with
// x-ms-file-size, x-ms-file-name and mimetype headers, and a Range request
// returns one chunk as 206 Partial Content with x-ms-chunk-size.

// fileOrg is an org whose tables have File columns; *sampleorg.Org is one.
type fileOrg interface {
	File(table, column string, i int) (sampleorg.File, bool)
}

// chunkSize is the x-ms-chunk-size the documentation gives (4 MiB).
const chunkSize = 4 << 20

func isFileColumn(e *sampleorg.Entity, col string) bool {
	a := e.Attribute(col)
	return a != nil && a.MetadataType == "FileAttributeMetadata"
}

var rangeRe = regexp.MustCompile(`^bytes=(\d+)-(\d*)$`)

// fileValue serves GET <set>(<id>)/<file column>/$value.
func (s *Server) fileValue(w http.ResponseWriter, r *http.Request, table, id, col string) {
	f, err := s.fileOf(table, id, col)
	if err != nil {
		writeError(w, http.StatusNotFound, "0x80040217", err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("x-ms-file-size", strconv.FormatInt(f.Size, 10))
	h.Set("x-ms-file-name", f.Name)
	h.Set("mimetype", f.MimeType)
	off, end := int64(0), f.Size // [off, end)
	status := http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" {
		m := rangeRe.FindStringSubmatch(rg)
		if m == nil {
			writeError(w, http.StatusBadRequest, errQuery, fmt.Sprintf("The Range header '%s' is not of the form bytes=first-last.", rg))
			return
		}
		off, _ = strconv.ParseInt(m[1], 10, 64)
		if m[2] != "" {
			last, _ := strconv.ParseInt(m[2], 10, 64)
			end = min(last+1, f.Size)
		}
		if off >= f.Size || end <= off {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", f.Size))
			writeError(w, http.StatusRequestedRangeNotSatisfiable, errQuery, fmt.Sprintf("Range %s lies outside the file of %d bytes.", rg, f.Size))
			return
		}
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, end-1, f.Size))
		h.Set("x-ms-chunk-size", strconv.Itoa(chunkSize))
	}
	h.Set("Content-Length", strconv.FormatInt(end-off, 10))
	w.WriteHeader(status)
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	_, _ = io.Copy(bw, io.NewSectionReader(f, off, end-off)) // a write error means the client went away
}

// fileOf returns the file of one row's File column.
func (s *Server) fileOf(table, id, col string) (sampleorg.File, error) {
	fo, ok := s.org.(fileOrg)
	if !ok {
		return sampleorg.File{}, fmt.Errorf("No file attachment found for attribute: %s EntityId: %s.", col, id)
	}
	_, live, err := s.lookup(table, id)
	if err != nil {
		return sampleorg.File{}, fmt.Errorf("generate %s %s: %w", table, id, err)
	}
	if !live {
		return sampleorg.File{}, fmt.Errorf("%s With Id = %s Does Not Exist", table, id)
	}
	i, _ := s.position(table, id)
	f, ok := fo.File(table, col, i%s.org.Count(table)) // rows added by churn repeat earlier ones, as rowAt does
	if !ok {
		return sampleorg.File{}, fmt.Errorf("No file attachment found for attribute: %s EntityId: %s.", col, id)
	}
	return f, nil
}
