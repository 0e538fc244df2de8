package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func TestEveryVerbHelpHasAnExample(t *testing.T) {
	for _, v := range verbs() {
		t.Run(v.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run([]string{v.name, "--help"}, &out, &errOut)

			if code != exitOK {
				t.Fatalf("exit %d, stderr %s", code, errOut.String())
			}
			help := out.String()
			for _, want := range []string{"Usage: d2i " + v.name, "Example:", "d2i " + v.name + " ", "Exit codes:"} {
				if !strings.Contains(help, want) {
					t.Errorf("help lacks %q:\n%s", want, help)
				}
			}
		})
	}
}

func TestUsageMistakesExitTwo(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "staging.duckdb")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")

	cases := [][]string{
		{},
		{"nosuchverb"},
		{"snapshot"},
		{"snapshot", "--no-such-flag"},
		{"transform", "--snapshot", "x"},
		{"replay", "--db", "x"},
		{"replay", "--db", missing, "--log-dir", dir},
		{"replay", "--db", db, "--log-dir", dir, "--intercom-url", "not-a-url"},
		{"replay", "--db", db, "--log-dir", dir, "--workers", "0"},
		{"report", "--db", missing, "--out", dir},
		{"report", "--db", db, "--out", dir, "--log-dir", missing},
		{"rollback"},
		{"rollback", "--log-dir", missing},
		{"serve", "postgres"},
		{"serve", "dataverse", "--cases", "-5"},
		{"demo", "--cases", "-1"},
	}
	t.Setenv("D2I_INTERCOM_TOKEN", "test-token")
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(args, &out, &errOut); code != exitUsage {
				t.Errorf("exit %d, want %d; stderr: %s", code, exitUsage, errOut.String())
			}
		})
	}
}

func TestSecretsNeverComeFromFlags(t *testing.T) {
	for _, v := range verbs() {
		var out, errOut bytes.Buffer
		run([]string{v.name, "--help"}, &out, &errOut)
		for _, line := range strings.Split(out.String(), "\n") {
			flag := strings.TrimSpace(line)
			if !strings.HasPrefix(flag, "--") {
				continue
			}
			lower := strings.ToLower(strings.Fields(flag)[0])
			for _, word := range []string{"secret", "token", "password"} {
				if strings.Contains(lower, word) {
					t.Errorf("d2i %s has a flag %s that looks like a secret", v.name, flag)
				}
			}
		}
	}
}
