//go:build !unix

package collector

import "os"

// flock is a no-op where flock(2) does not exist: the data directory is
// not protected against a second collector there.
func flock(*os.File) error { return nil }
