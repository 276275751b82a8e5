//go:build !failpoint

package collector

// failpoint does nothing: the shipped binaries have no failpoints. A build
// with -tags failpoint (failpoint_on.go) lets tests kill the process at
// named points.
func failpoint(string) {}
