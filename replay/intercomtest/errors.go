package intercomtest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is an answer in Intercom's error.list envelope.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status, code, fmt.Sprintf(format, args...)}
}

func notFound(msg string) *apiError { return &apiError{http.StatusNotFound, "not_found", msg} }

func invalid(format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, "parameter_invalid", format, args...)
}

func writeError(w http.ResponseWriter, requestID string, e *apiError) {
	writeJSON(w, e.status, map[string]any{
		"type":       "error.list",
		"request_id": requestID,
		"errors":     []map[string]any{{"code": e.code, "message": e.message}},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
