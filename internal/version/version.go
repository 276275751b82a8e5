// Package version reports the build's version: set with
// -ldflags "-X github.com/tensionwatch/tensionwatch/internal/version.Version=v1.2.3",
// or taken from the module's build information.
package version

import "runtime/debug"

// Version is the release version, "" unless set at link time.
var Version = ""

// String returns the version, the VCS revision, or "devel".
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "devel-" + s.Value[:12]
			}
		}
	}
	return "devel"
}
