package collector

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LockFile is the name of the lock file in a collector's data directory.
const LockFile = "collector.lock"

// ErrLocked is returned by LockDataDir when another process holds the lock.
var ErrLocked = errors.New("in use by another collector")

// LockDataDir takes the data directory dir for this process, creating it
// if needed, so that two collectors never share an outbox and a seen store.
// The lock is an advisory lock (flock) on dir/collector.lock, released by
// unlock or when the process ends, however it ends; the file names the
// process holding it (pid@host), which the error of a second collector
// repeats.
func LockDataDir(dir string) (unlock func() error, err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", dir, err)
	}
	if err := flock(f); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, ErrLocked) {
			who := strings.TrimSpace(string(holder))
			if who == "" {
				who = "unknown process"
			}
			return nil, fmt.Errorf("data dir %s is %w (%s holds %s); give each collector its own --data.dir", dir, ErrLocked, who, path)
		}
		return nil, fmt.Errorf("data dir %s: locking %s: %w", dir, path, err)
	}
	host, _ := os.Hostname()
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(fmt.Sprintf("pid %d@%s\n", os.Getpid(), host)), 0)
	}
	return func() error {
		f.Truncate(0)
		return f.Close() // closing releases the lock
	}, nil
}
