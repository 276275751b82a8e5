//go:build failpoint

package collector

import "os"

// FailpointEnv names the environment variable that selects a failpoint in
// a binary built with -tags failpoint (never a shipped one).
const FailpointEnv = "TENSIONWATCH_FAILPOINT"

var activeFailpoint = os.Getenv(FailpointEnv)

// failpoint exits the process like a SIGKILL (status 137) when name is the
// failpoint selected by TENSIONWATCH_FAILPOINT:
//
//	exit-after-produce  between Kafka's acknowledgement and the seen-mark
func failpoint(name string) {
	if activeFailpoint == name {
		os.Exit(137)
	}
}
