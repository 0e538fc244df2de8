package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// maxErrorBody bounds how much of an error response is read; 5xx bodies can be
// whole HTML pages.
const maxErrorBody = 64 << 10

// APIError is any non-2xx answer from Intercom.
type APIError struct {
	Method    string
	Path      string // request path without query: never carries the token
	Status    int
	Code      string // first error code of the error.list, if any
	Message   string // first error message, e-mail addresses redacted
	RequestID string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("intercom %s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	return s
}

// RateLimited is a 429 that was still refused after the retries ran out.
type RateLimited struct {
	APIError
	Reset time.Time // zero when the header was absent
}

func (e *RateLimited) Unwrap() error { return &e.APIError }

// Conflict is a 409. ExistingID is the id Intercom named in the message, or
// empty when the message names none (e.g. "Multiple existing users match").
type Conflict struct {
	APIError
	ExistingID string
	Archived   bool
}

func (e *Conflict) Unwrap() error { return &e.APIError }

// NotFound is a 404.
type NotFound struct{ APIError }

func (e *NotFound) Unwrap() error { return &e.APIError }

// UncertainError means the request may or may not have taken effect: the
// caller must look the object up before sending it again.
type UncertainError struct{ Err error }

func (e *UncertainError) Error() string { return "outcome unknown: " + e.Err.Error() }
func (e *UncertainError) Unwrap() error { return e.Err }

var (
	existingIDRe = regexp.MustCompile(`id=([0-9a-fA-F]{24})\b`)
	emailRe      = regexp.MustCompile(`[^\s@]+@[^\s@]+\.[^\s@]+`)
)

type errorList struct {
	Type      string `json:"type"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

// newAPIError reads a failed response (through a size limit) into a typed error.
func newAPIError(method, path string, resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := APIError{Method: method, Path: path, Status: resp.StatusCode}
	var el errorList
	if json.Unmarshal(body, &el) == nil && len(el.Errors) > 0 {
		e.Code = el.Errors[0].Code
		e.Message = el.Errors[0].Message
		e.RequestID = el.RequestID
	}
	rawMessage := e.Message
	e.Message = emailRe.ReplaceAllString(e.Message, "<email>")
	switch resp.StatusCode {
	case http.StatusConflict:
		c := &Conflict{APIError: e, Archived: strings.Contains(strings.ToLower(rawMessage), "archived")}
		if m := existingIDRe.FindStringSubmatch(rawMessage); m != nil {
			c.ExistingID = m[1]
		}
		return c
	case http.StatusNotFound:
		return &NotFound{APIError: e}
	case http.StatusTooManyRequests:
		return &RateLimited{APIError: e, Reset: parseReset(resp.Header)}
	}
	return &e
}

// parseReset reads X-RateLimit-Reset (unix seconds); zero when absent.
func parseReset(h http.Header) time.Time {
	v, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil || v <= 0 {
		return time.Time{}
	}
	return time.Unix(v, 0)
}
