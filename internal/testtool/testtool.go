// Package testtool finds the external tools that tests drive (promtool,
// kcat, chromium, …). A missing tool skips the test on a developer's
// machine, saying how to install it, but fails it under CI, where .ci/run
// installs it: a CI run must never pass by skipping.
package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
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

// SharedData returns the path of ../shared/data beside the repository (the
// project's shared third-party data), joined with elem. When it is absent
// the test skips on a developer's machine but fails under CI, which runs
// with ../shared beside the clone.
func SharedData(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testtool: no go.mod above the test's directory")
		}
		dir = parent
	}
	p := filepath.Join(append([]string{dir, "..", "shared", "data"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is absent but CI is set: CI runs with ../shared beside the repository", p)
		}
		t.Skipf("%s is absent: this test needs ../shared/data beside the repository; CI runs it", p)
	}
	return p
}
