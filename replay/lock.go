package replay

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockName is the advisory lock file of a write log directory.
const lockName = ".lock"

// LockedError means another replay or rollback holds the write log
// directory: two writers on one directory would each resend what the other
// has in flight and duplicate objects in Intercom.
type LockedError struct {
	Dir string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("write log directory %s is in use by another replay or rollback; "+
		"wait for it to finish (a killed process releases it automatically)", e.Dir)
}

// dirLock is an exclusive advisory lock on LogDir/.lock. The kernel drops it
// when the process exits, so a crashed run never leaves a stale lock behind.
type dirLock struct{ f *os.File }

// lockDir creates dir if needed and takes its lock without waiting.
func lockDir(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("write log dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write log lock %s: %w", path, err)
	}
	busy, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("write log lock %s: %w", path, err)
	}
	if busy {
		f.Close()
		return nil, &LockedError{Dir: dir}
	}
	return &dirLock{f: f}, nil
}

// release drops the lock; the file stays so that its inode is stable.
func (l *dirLock) release() {
	if l != nil && l.f != nil {
		_ = unlock(l.f)
		_ = l.f.Close()
	}
}
