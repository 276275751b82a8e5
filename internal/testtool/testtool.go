// Package testtool finds the external tools that tests drive (promtool,
// kcat, chromium, …). A missing tool skips the test on a developer's
// machine, saying how to install it, but fails it under CI, where .ci/run
// installs it: a CI run must never pass by skipping.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// Require returns the path of the first of names found on PATH; pkg is the
// Debian package that provides it.
func Require(t testing.TB, pkg string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found but CI is set: .ci/run must install Debian's %s", names[0], pkg)
	}
	t.Skipf("%s not installed (apt-get install %s); CI runs this test", names[0], pkg)
	return ""
}
