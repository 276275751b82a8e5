package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// Dispatch runs the subcommand named by args[0] and turns its outcome into
// an exit code: 0 on success or --help, 1 on an error (printed as
// "name: error"), 2 on a missing or unknown command (with the usage).
func Dispatch(name, usage string, args []string, stdout, stderr io.Writer, cmds map[string]func(args []string) error) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown command %q\n\n%s", name, args[0], usage)
		return 2
	}
	err := cmd(args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}
