package main

import (
	"bytes"
	"errors"
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
	cases := [][]string{
		{"nosuchverb"},
		{"snapshot"},
		{"snapshot", "--no-such-flag"},
		{"transform", "--snapshot", "x"},
		{"replay", "--db", "x"},
		{"serve", "postgres"},
		{"rollback"},
	}
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
