package mapping

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Errors Verify returns (wrapped); test them with errors.Is.
var (
	ErrUnconfirmed = errors.New("mapping is not confirmed; run 'd2i map confirm FILE'")
	ErrChanged     = errors.New("mapping changed since it was confirmed; " +
		"review it and run 'd2i map confirm FILE' again")
)

const sealPrefix = "sha256:"

// sealLine matches the seal keys Confirm writes, and the comment above them.
var sealLine = regexp.MustCompile(`^(confirmed|confirmed_at):|^# Sealed by 'd2i map confirm'`)

// Hash is "sha256:<hex>" over the mapping's canonical content: its JSON
// encoding without the seal. Hashing the parsed values rather than the file
// lets comments and layout change freely while any changed value shows.
func (m *Mapping) Hash() string {
	c := *m
	c.Confirmed, c.ConfirmedAt = "", ""
	b, err := json.Marshal(&c)
	if err != nil {
		panic(fmt.Sprintf("mapping: encode for hash: %v", err)) // plain data: cannot fail
	}
	sum := sha256.Sum256(b)
	return sealPrefix + hex.EncodeToString(sum[:])
}

// Verify tells whether m carries a seal and the seal matches its content.
func Verify(m *Mapping) error {
	if m.Confirmed == "" {
		return ErrUnconfirmed
	}
	if got := m.Hash(); got != m.Confirmed {
		return fmt.Errorf("%w (sealed %s, content now %s)", ErrChanged, m.Confirmed, got)
	}
	return nil
}

// LoadVerified loads the mapping at path and requires a matching seal.
func LoadVerified(path string) (*Mapping, error) {
	m, err := Load(path)
	if err != nil {
		return nil, err
	}
	if err := Verify(m); err != nil {
		return nil, fmt.Errorf("mapping %s: %w", path, err)
	}
	return m, nil
}

// Confirm checks the mapping file at path and seals it in place: any earlier
// seal is dropped and a new one appended, keeping the person's comments.
func Confirm(path string) (*Mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read mapping: %w", err)
	}
	m, err := Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: not confirmed: %w", path, err)
	}
	m.Confirmed = m.Hash()
	m.ConfirmedAt = time.Now().UTC().Format(time.RFC3339)

	out := stripSeal(b) + sealBlock(m.Confirmed, m.ConfirmedAt)
	if err := writeAtomic(path, []byte(out)); err != nil {
		return nil, err
	}
	return m, nil
}

func stripSeal(b []byte) string {
	lines := strings.SplitAfter(string(b), "\n")
	var keep []string
	for _, l := range lines {
		if !sealLine.MatchString(l) {
			keep = append(keep, l)
		}
	}
	s := strings.TrimRight(strings.Join(keep, ""), "\n")
	return s + "\n"
}

func sealBlock(hash, at string) string {
	s := "\n# Sealed by 'd2i map confirm': the hash covers every value above.\n"
	s += "confirmed: " + hash + "\n"
	if at != "" {
		s += "confirmed_at: " + at + "\n"
	}
	return s
}

func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".mapping-*.yaml")
	if err != nil {
		return fmt.Errorf("write mapping %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write mapping %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write mapping %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write mapping %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write mapping %s: %w", path, err)
	}
	return nil
}

// Execer is the part of *sql.Conn / *sql.DB that Record needs.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Record (re)creates reports.mapping in a staging database: one row with the
// seal of the mapping the transform used, or no row when m is nil.
func Record(ctx context.Context, db Execer, m *Mapping) error {
	if _, err := db.ExecContext(ctx, `create or replace table reports.mapping (
		hash varchar, confirmed_at timestamp)`); err != nil {
		return fmt.Errorf("create reports.mapping: %w", err)
	}
	if m == nil {
		return nil
	}
	var at any
	if t, err := time.Parse(time.RFC3339, m.ConfirmedAt); err == nil {
		at = t.UTC()
	}
	if _, err := db.ExecContext(ctx, `insert into reports.mapping values (?, ?)`, m.Confirmed, at); err != nil {
		return fmt.Errorf("record mapping %s in reports.mapping: %w", m.Confirmed, err)
	}
	return nil
}
