package app

import (
	"flag"
	"fmt"
	"io"
)

// Usage sets a FlagSet's usage text: a synopsis, a paragraph, then the flags.
func Usage(fs *flag.FlagSet, w io.Writer, synopsis, about string) {
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: %s\n\n%s\n\nFlags:\n", synopsis, about)
		fs.PrintDefaults()
	}
}
