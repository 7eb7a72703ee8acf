//go:build unix

package sqlstore

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on path, creating the file if needed, and
// holds it until Release closes it. The kernel drops it when the process dies.
func lockFile(path string) (*NodeLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("call-control lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, lockFileHeld(path)
		}
		return nil, fmt.Errorf("call-control lock %s: %w", path, err)
	}
	// The file stays: removing it would let a third process lock a new file
	// of the same name while a second still waits on the old one.
	return &NodeLock{release: f.Close}, nil
}
