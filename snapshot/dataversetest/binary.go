package dataversetest

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// Binary content (spec §12): notes and e-mail attachments keep Base64 text
// in an ordinary string column. It is served by $value and by the block
// download actions, and never in a list unless $select names it.

// binaryColumns maps a table to its Base64 body column.
var binaryColumns = map[string]string{"annotation": "documentbody", "activitymimeattachment": "body"}

// listColumns are the columns of a list without $select: every column but
// the binary body.
func listColumns(e *sampleorg.Entity) []*sampleorg.Attribute {
	all := e.Columns()
	skip := binaryColumns[e.LogicalName]
	if skip == "" {
		return all
	}
	out := make([]*sampleorg.Attribute, 0, len(all))
	for _, a := range all {
		if a.LogicalName != skip {
			out = append(out, a)
		}
	}
	return out
}

// maxBlock is the largest BlockLength DownloadBlock accepts: the 4 MB the
// documentation recommends as block size (the real cap is unverified).
const maxBlock = 4 << 20

// binaryValue serves GET <set>(<id>)/<column>/$value as text/plain Base64.
func (s *Server) binaryValue(w http.ResponseWriter, r *http.Request, set, id, col string) {
	table, e := s.tableBySet(set)
	if e == nil {
		writeError(w, http.StatusNotFound, errQuery, fmt.Sprintf("Resource not found for the segment '%s'.", set))
		return
	}
	if isFileColumn(e, col) {
		s.fileValue(w, r, table, id, col)
		return
	}
	if binaryColumns[table] != col {
		writeError(w, http.StatusBadRequest, errQuery, fmt.Sprintf("The emulator serves $value for binary columns only, not '%s.%s'.", table, col))
		return
	}
	b, name, err := s.blobOf(table, id)
	if err != nil {
		writeError(w, http.StatusNotFound, "0x80040217", err.Error())
		return
	}
	_ = name // the $value route carries no file name header (spec §12)
	if b == nil {
		w.WriteHeader(http.StatusNoContent) // an empty column (the real status is unverified)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", fmt.Sprint(b.Base64Len()))
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	_ = b.WriteBase64(bw) // a write error means the client went away
}

// blobOf returns a row's body and file name; a nil Blob for an empty column.
func (s *Server) blobOf(table, id string) (*sampleorg.Blob, string, error) {
	row, ok, err := s.lookup(table, id)
	if err != nil {
		return nil, "", fmt.Errorf("generate %s %s: %w", table, id, err)
	}
	if !ok {
		return nil, "", fmt.Errorf("%s With Id = %s Does Not Exist", table, id)
	}
	name, _ := row["filename"].(string)
	switch v := row[binaryColumns[table]].(type) {
	case sampleorg.Blob:
		return &v, name, nil
	case string:
		raw, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, "", fmt.Errorf("%s %s: body is not Base64: %w", table, id, err)
		}
		b := sampleorg.LiteralBlob(raw)
		return &b, name, nil
	}
	return nil, name, nil
}

var actions = map[string]bool{"InitializeAnnotationBlocksDownload": true, "InitializeAttachmentBlocksDownload": true,
	"InitializeFileBlocksDownload": true, "DownloadBlock": true}

func (s *Server) isAction(r *http.Request) bool {
	return actions[strings.TrimPrefix(r.URL.Path, BasePath)]
}

type blockRequest struct {
	Target                map[string]any `json:"Target"`
	FileAttributeName     string         `json:"FileAttributeName"`
	Offset                int64          `json:"Offset"`
	BlockLength           int64          `json:"BlockLength"`
	FileContinuationToken string         `json:"FileContinuationToken"`
}

// action serves the block download protocol: an Initialize…BlocksDownload
// call names the record and returns a continuation token, size and name;
// DownloadBlock then returns Base64 of the file bytes [Offset,
// Offset+BlockLength).
func (s *Server) action(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, BasePath)
	var req blockRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, errQuery, fmt.Sprintf("%s: the request body is not valid JSON: %v", name, err))
		return
	}
	if name == "DownloadBlock" {
		s.downloadBlock(w, req)
		return
	}
	table, id, err := blockTarget(name, req)
	if err != nil {
		writeError(w, http.StatusBadRequest, errQuery, err.Error())
		return
	}
	b, fileName, err := s.blobOf(table, id)
	if err != nil {
		writeError(w, http.StatusNotFound, "0x80040217", err.Error())
		return
	}
	if b == nil {
		writeError(w, http.StatusBadRequest, errQuery, fmt.Sprintf("The %s record %s has no file to download.", table, id))
		return
	}
	body := obj{{"@odata.context", s.base() + "$metadata#Microsoft.Dynamics.CRM." + name + "Response"},
		{"FileContinuationToken", base64.RawURLEncoding.EncodeToString([]byte("d2i|" + table + "|" + id))},
		{"FileSizeInBytes", b.Size}, {"FileName", fileName}}
	if name == "InitializeFileBlocksDownload" {
		body = append(body, kv{"IsChunkingSupported", true})
	}
	writeJSON(w, body)
}

// blockTarget reads the record an Initialize…BlocksDownload call names.
func blockTarget(action string, req blockRequest) (table, id string, err error) {
	want := map[string]string{"InitializeAnnotationBlocksDownload": "annotation",
		"InitializeAttachmentBlocksDownload": "activitymimeattachment"}[action]
	typ, _ := req.Target["@odata.type"].(string)
	table = strings.TrimPrefix(typ, "Microsoft.Dynamics.CRM.")
	if want != "" && table == "" {
		table = want
	}
	if table == "" || (want != "" && table != want) {
		return "", "", fmt.Errorf("%s: Target must be a Microsoft.Dynamics.CRM.%s entity reference.", action, want)
	}
	if _, ok := binaryColumns[table]; !ok {
		return "", "", fmt.Errorf("%s: the emulator has no file content on table '%s'.", action, table)
	}
	if action == "InitializeFileBlocksDownload" && req.FileAttributeName != binaryColumns[table] {
		// TODO: real file columns (msdyn_ocrecording.msdyn_recording) once Omnichannel tables exist.
		return "", "", fmt.Errorf("%s: '%s' is not a file column of '%s'.", action, req.FileAttributeName, table)
	}
	pk := map[string]string{"annotation": "annotationid", "activitymimeattachment": "activitymimeattachmentid"}[table]
	id, _ = req.Target[pk].(string)
	if id == "" {
		return "", "", fmt.Errorf("%s: Target has no %s.", action, pk)
	}
	return table, id, nil
}

func (s *Server) downloadBlock(w http.ResponseWriter, req blockRequest) {
	raw, err := base64.RawURLEncoding.DecodeString(req.FileContinuationToken)
	parts := strings.Split(string(raw), "|")
	if err != nil || len(parts) != 3 || parts[0] != "d2i" {
		writeError(w, http.StatusBadRequest, errQuery, "DownloadBlock: the FileContinuationToken is not valid.")
		return
	}
	b, _, err := s.blobOf(parts[1], parts[2])
	if err != nil || b == nil {
		writeError(w, http.StatusNotFound, "0x80040217", fmt.Sprintf("DownloadBlock: the file of %s %s is gone.", parts[1], parts[2]))
		return
	}
	if req.Offset < 0 || req.Offset >= b.Size || req.BlockLength <= 0 || req.BlockLength > maxBlock {
		writeError(w, http.StatusBadRequest, errQuery, fmt.Sprintf(
			"DownloadBlock: Offset %d and BlockLength %d must lie within the file of %d bytes, blocks at most %d bytes.",
			req.Offset, req.BlockLength, b.Size, maxBlock))
		return
	}
	writeJSON(w, obj{{"@odata.context", s.base() + "$metadata#Microsoft.Dynamics.CRM.DownloadBlockResponse"},
		{"Data", b.Base64Range(req.Offset, req.BlockLength)}})
}
