package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// UsageError is an error in how a command was invoked: an unknown or
// malformed flag, a stray argument, a required flag missing. Dispatch exits
// 2 for it, as for a missing or unknown command.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ParseFlags parses a command's arguments, all of which must be flags:
// a parse error or a positional argument is a UsageError; --help returns
// flag.ErrHelp.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &UsageError{Err: err} // the flag package has printed the usage
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q (this command takes flags only; see \"%s --help\")", fs.Arg(0), fs.Name())
	}
	return nil
}

// Dispatch runs the subcommand named by args[0] and turns its outcome into
// an exit code: 0 on success or --help, 2 on a missing or unknown command
// (with the usage) or a UsageError, 1 on any other error (printed as
// "name: error").
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
	var ue *UsageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}
