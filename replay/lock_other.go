//go:build !unix

package replay

import "os"

// TODO: lock the write log directory on non-unix systems (LockFileEx).
func tryLock(*os.File) (bool, error) { return false, nil }

func unlock(*os.File) error { return nil }
